#!/usr/bin/env python3
"""Writes SHA-crypt and phpass test vectors (see README.md and gen.sh).

Same line format as gen_python.py, plus "refused": more candidates the
originating library refuses (truncation probes, the NFD spelling of an
NFC password). Every hash is checked with the library that made it and,
for SHA-crypt, with the system's libxcrypt (Python's crypt module) too.

Usage: /usr/bin/python3 gen_crypt.py passlib|mkpasswd
"""
import json
import subprocess
import sys
import unicodedata
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import crypt  # noqa: E402  (libxcrypt, Debian's python3.11)

from gen_python import PASSWORDS, wrong  # noqa: E402


def refused(pw):
    """Candidates every one of these schemes must refuse for pw."""
    out = []
    b = pw.encode()
    if len(b) > 72:  # truncation probes: these schemes read every byte
        out += [b[:72].decode(), b[:-1].decode(), pw + "L"]
    nfd = unicodedata.normalize("NFD", pw)
    if nfd != pw:
        out.append(nfd)
    return out


def emit(lib, scheme, pw, h, verify, default=False):
    assert verify(pw, h), (lib, h)
    assert not verify(wrong(pw), h)
    rs = refused(pw)
    for r in rs:
        assert not verify(r, h), (lib, h, r)
    print(json.dumps({"lib": lib, "scheme": scheme, "password": pw, "wrong": wrong(pw),
                      "hash": h, "default": default, "also": [], "refused": rs}))


def libxcrypt_verify(pw, h):
    return crypt.crypt(pw, h) == h


def passlib_gen():
    import passlib
    from passlib.hash import phpass, sha256_crypt, sha512_crypt
    lib = "passlib " + passlib.__version__
    for pw in PASSWORDS:
        emit(lib, "phpass", pw, phpass.using(rounds=8).hash(pw), phpass.verify)
        emit(lib, "phpass", pw, phpass.using(rounds=9, ident="H").hash(pw), phpass.verify)
        for name, h in (("sha256-crypt", sha256_crypt), ("sha512-crypt", sha512_crypt)):
            def both(p, x, h=h):
                ok = h.verify(p, x)
                assert ok == libxcrypt_verify(p, x), (p, x)
                return ok
            emit(lib, name, pw, h.using(rounds=1000).hash(pw), both)
            emit(lib, name, pw, h.using(rounds=5000).hash(pw), both)  # written without rounds=
    pw = PASSWORDS[0]
    emit(lib, "phpass", pw, phpass.hash(pw), phpass.verify, default=True)  # 2^19
    emit(lib, "sha256-crypt", pw, sha256_crypt.hash(pw), sha256_crypt.verify, default=True)  # 535000
    emit(lib, "sha512-crypt", pw, sha512_crypt.hash(pw), sha512_crypt.verify, default=True)  # 656000


def mkpasswd_gen():
    ver = subprocess.run(["mkpasswd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    lib = ver + " (libxcrypt)"
    from passlib.hash import sha256_crypt, sha512_crypt

    def mk(method, pw, rounds=None):
        args = ["mkpasswd", "-s", "-m", method] + (["-R", str(rounds)] if rounds else [])
        return subprocess.run(args, input=(pw + "\n").encode(), capture_output=True, check=True).stdout.decode().strip()

    for pw in PASSWORDS:
        for method, name, pl in (("sha-256", "sha256-crypt", sha256_crypt), ("sha-512", "sha512-crypt", sha512_crypt)):
            def both(p, x, pl=pl):
                ok = libxcrypt_verify(p, x)
                assert ok == pl.verify(p, x), (p, x)
                return ok
            emit(lib, name, pw, mk(method, pw), both, default=(pw == PASSWORDS[0]))  # 5000, no rounds=
            emit(lib, name, pw, mk(method, pw, 1000), both)
            emit(lib, name, pw, mk(method, pw, 12345), both)


if __name__ == "__main__":
    {"passlib": passlib_gen, "mkpasswd": mkpasswd_gen}[sys.argv[1]]()
