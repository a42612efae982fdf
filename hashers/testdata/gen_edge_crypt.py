#!/usr/bin/env python3
"""Writes edge-case SHA-crypt, phpass and Unix-crypt vectors (see README.md
and gen.sh).

Same line format as gen_crypt.py. Hashes are made by the system's
libxcrypt (Python's crypt module, with the salt strings given explicitly,
as a shadow file or another application would pass them), by mkpasswd and
OpenSSL's `passwd`, and by passlib for phpBB's $H$; every SHA-crypt hash is
checked with both libxcrypt and passlib.

Two more fields mark rows the Go tests treat specially:
  "slow": true            a cost too high to verify under the race
                          detector (only parsed there);
  "refused_scheme": true  a scheme this package refuses by design or does
                          not implement: Verify and Identify must answer
                          ErrRefusedScheme, with "scheme" as the name.

Usage: /usr/bin/python3 gen_edge_crypt.py
"""
import json
import subprocess
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import crypt  # noqa: E402  (libxcrypt, Debian's python3.11)

from gen_crypt import refused  # noqa: E402
from gen_python import PASSWORDS, wrong  # noqa: E402

LIBXCRYPT = "libxcrypt " + subprocess.run(
    ["dpkg-query", "-W", "-f=${Version}", "libcrypt1"], capture_output=True, text=True).stdout + " (python3 crypt)"


def emit(lib, scheme, pw, h, verify, slow=False, also=(), extra_refused=()):
    assert verify(pw, h), (lib, h)
    assert not verify(wrong(pw), h), (lib, h)
    # bcrypt reads 72 bytes: its probes come from the caller.
    rs = list(extra_refused) if scheme == "bcrypt" else refused(pw) + list(extra_refused)
    for r in rs:
        assert not verify(r, h), (lib, h, r)
    for a in also:
        assert verify(a, h), (lib, h, a)
    row = {"lib": lib, "scheme": scheme, "password": pw, "wrong": wrong(pw),
           "hash": h, "default": False, "also": list(also), "refused": rs}
    if slow:
        row["slow"] = True
    print(json.dumps(row))


def xcrypt(pw, setting):
    h = crypt.crypt(pw, setting)
    assert h and not h.startswith("*"), (setting, h)
    return h


def sha_both(pw, h):
    from passlib.hash import sha256_crypt, sha512_crypt
    ok = crypt.crypt(pw, h) == h
    pl = (sha256_crypt if h.startswith("$5$") else sha512_crypt).verify(pw, h)
    assert ok == pl, (pw, h)
    return ok


def shacrypt():
    # Salts of every length 1..16, with '.' and '/', and longer ones that
    # libxcrypt cuts to 16 characters; the empty salt; rounds= written
    # explicitly at the default 5000, at the minimum 1000, and large.
    salts = ["a", "./", "a.b", "////", "Zz.9/", "ab/de.", "1234567", "........",
             "abcdefghi", "./0123456/", "ABCDEFGHIJK", "a/b/c/d/e/f/", "mnopqrstuvwxy",
             "..............", "/abcdefghijklmn", "0123456789abcdef",
             "abcdefghijklmnopqrstu", "................////", ""]
    for ident, name in (("5", "sha256-crypt"), ("6", "sha512-crypt")):
        for i, salt in enumerate(salts):
            pw = PASSWORDS[i % len(PASSWORDS)]
            h = xcrypt(pw, "$%s$%s" % (ident, salt))
            assert h.split("$")[2] == salt[:16], h
            emit(LIBXCRYPT, name, pw, h, sha_both)
        for pw in PASSWORDS:
            emit(LIBXCRYPT, name, pw, xcrypt(pw, "$%s$rounds=5000$%s" % (ident, "explicit5000")), sha_both)
            emit(LIBXCRYPT, name, pw, xcrypt(pw, "$%s$rounds=1000$%s" % (ident, "./min1000./")), sha_both)
            emit(LIBXCRYPT, name, pw, xcrypt(pw, "$%s$rounds=1001$" % ident), sha_both)  # empty salt with rounds
        pw = PASSWORDS[4]
        emit(LIBXCRYPT, name, pw, xcrypt(pw, "$%s$rounds=250000$%s" % (ident, "large/rounds")), sha_both, slow=True)
        # Below the minimum and above the maximum libxcrypt refuses to
        # hash (glibc clamps them and writes the clamped value), so no
        # such hash exists; the Go tests refuse them as malformed or unsafe.
        for bad in ("rounds=999", "rounds=1", "rounds=1000000000", "rounds=01000"):
            assert crypt.crypt("x", "$%s$%s$salt" % (ident, bad)).startswith("*"), bad
    # OpenSSL's own SHA-crypt (openssl passwd -5/-6), rounds= in the salt
    # argument included.
    for i, pw in enumerate(PASSWORDS):
        if pw == "":
            continue  # openssl passwd reads no empty password from its arguments
        for flag, name in (("-5", "sha256-crypt"), ("-6", "sha512-crypt")):
            salt = ("rounds=2000$sal", "", "./openssl./", "rounds=5000$abc", "x")[i % 5]
            args = ["openssl", "passwd", flag] + (["-salt", salt] if salt else []) + [pw]
            h = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
            assert h.startswith("$"), (args, h)
            emit(OPENSSL, name, pw, h, sha_both)
    # Rounds below 1000 (and with a leading zero): OpenSSL, like glibc,
    # clamps them and writes "rounds=1000".
    for flag, name in (("-5", "sha256-crypt"), ("-6", "sha512-crypt")):
        for asked, pw in (("10", PASSWORDS[0]), ("999", PASSWORDS[4]), ("01000", PASSWORDS[2])):
            h = subprocess.run(["openssl", "passwd", flag, "-salt", "rounds=%s$clamp" % asked, pw],
                               capture_output=True, text=True, check=True).stdout.strip()
            assert h.startswith("$%s$rounds=1000$clamp$" % flag[1]), h
            emit(OPENSSL, name, pw, h, sha_both)
    # mkpasswd with a salt of its own choosing and -S/-R.
    for pw in PASSWORDS:
        for method, name in (("sha-256", "sha256-crypt"), ("sha-512", "sha512-crypt")):
            out = subprocess.run(["mkpasswd", "-s", "-m", method, "-S", "./salt./", "-R", "5000"],
                                 input=(pw + "\n").encode(), capture_output=True, check=True).stdout.decode().strip()
            emit(MKPASSWD, name, pw, out, sha_both)


def bcrypt_xcrypt():
    # libxcrypt's own bcrypt ($2b$, $2y$, $2a$), as a shadow file holds it.
    long_na = "\u00e9" * 40  # 80 bytes: the 72-byte cut falls between characters
    for ident in ("2b", "2y", "2a"):
        for pw in PASSWORDS + [long_na, "a" * 71 + "\u00e9" + "tail"]:
            h = xcrypt(pw, crypt.mksalt(getattr(crypt, "METHOD_BLOWFISH"), rounds=16).replace("$2b$", "$%s$" % ident))
            b = pw.encode()
            also, extra = [], []
            if len(b) > 72:
                # libxcrypt reads the first 72 bytes: any tail matches, a
                # shorter prefix does not.
                also = [pw + "more"]
                extra = [b[:71].decode("utf-8", "ignore")]
                if b[:72].decode("utf-8", "ignore").encode() == b[:72]:
                    also.append(b[:72].decode())
            nfd = refused(pw)[-1:] if len(b) <= 72 else []
            extra += nfd
            emit(LIBXCRYPT, "bcrypt", pw, h, lambda p, x: crypt.crypt(p, x) == x, also=also, extra_refused=extra)


def refused_schemes():
    # Weak or unimplemented Unix-crypt schemes: refused with
    # ErrRefusedScheme, never verified.
    pw = PASSWORDS[0]
    rows = [
        ("md5-crypt", xcrypt(pw, "$1$abcdefgh"), LIBXCRYPT),
        ("md5-crypt", xcrypt(pw, "$1$"), LIBXCRYPT),
        ("md5-crypt", subprocess.run(["openssl", "passwd", "-1", pw], capture_output=True, text=True, check=True).stdout.strip(), OPENSSL),
        ("apr1-md5", subprocess.run(["openssl", "passwd", "-apr1", pw], capture_output=True, text=True, check=True).stdout.strip(), OPENSSL),
        ("apr1-md5", subprocess.run(["openssl", "passwd", "-apr1", "-salt", "a./", pw], capture_output=True, text=True, check=True).stdout.strip(), OPENSSL),
        ("yescrypt", xcrypt(pw, "$y$j9T$abcdefghijklmnop"), LIBXCRYPT),
        ("yescrypt", subprocess.run(["mkpasswd", "-s", "-m", "yescrypt"], input=(pw + "\n").encode(), capture_output=True, check=True).stdout.decode().strip(), MKPASSWD),
        ("gost-yescrypt", xcrypt(pw, "$gy$j9T$abcdefghijklmnop"), LIBXCRYPT),
        ("scrypt-crypt", xcrypt(pw, "$7$CU..../....abcdefgh"), LIBXCRYPT),
        ("sha1-crypt", xcrypt(pw, "$sha1$48000$abcdefgh"), LIBXCRYPT),
        ("sun-md5-crypt", xcrypt(pw, "$md5$abcdefgh"), LIBXCRYPT),
        ("sun-md5-crypt", xcrypt(pw, "$md5,rounds=5000$abcdefgh"), LIBXCRYPT),
        ("bsdi-crypt", xcrypt(pw, "_J9..abcd"), LIBXCRYPT),
        ("des-crypt", xcrypt(pw, "ab"), LIBXCRYPT),
        ("des-crypt", xcrypt(pw, "./"), LIBXCRYPT),
        ("nthash", xcrypt(pw, "$3$"), LIBXCRYPT),
        ("bcrypt-2x", xcrypt(pw, "$2x$04$abcdefghijklmnopqrstuu"), LIBXCRYPT),
    ]
    from passlib.hash import apr_md5_crypt

    def check(p, h):
        if h.startswith("$apr1$"):  # libxcrypt does not read it
            return apr_md5_crypt.verify(p, h)
        return crypt.crypt(p, h) == h
    for scheme, h, lib in rows:
        assert check(pw, h) and not check(wrong(pw), h), h
        print(json.dumps({"lib": lib, "scheme": scheme, "password": pw, "wrong": wrong(pw), "hash": h,
                          "default": False, "also": [], "refused": [], "refused_scheme": True}))


def phpbb():
    import passlib
    from passlib.hash import phpass
    lib = "passlib " + passlib.__version__
    # Every iteration-count character phpass accepts up to 2^18; 2^7 is
    # the smallest it reads.
    for log2 in range(7, 19):
        pw = PASSWORDS[log2 % len(PASSWORDS)]
        for ident in ("H", "P"):
            emit(lib, "phpass", pw, phpass.using(rounds=log2, ident=ident).hash(pw), phpass.verify, slow=log2 > 16)


def ldap():
    # passlib's ldap_* wrappers: "{CRYPT}" before crypt(3) strings,
    # "{PBKDF2}", "{PBKDF2-SHA256}", "{PBKDF2-SHA512}" before its PBKDF2
    # layout, and the salted digests it writes for LDAP.
    import passlib
    from passlib import hash as H
    lib = "passlib " + passlib.__version__
    for pw in PASSWORDS:
        for name, scheme, rounds in (("ldap_pbkdf2_sha1", "passlib-pbkdf2-sha1", 1000),
                                     ("ldap_pbkdf2_sha256", "passlib-pbkdf2-sha256", 1000),
                                     ("ldap_pbkdf2_sha512", "passlib-pbkdf2-sha512", 1000),
                                     ("ldap_sha256_crypt", "sha256-crypt", 1000),
                                     ("ldap_sha512_crypt", "sha512-crypt", 1000)):
            h = getattr(H, name)
            emit(lib, scheme, pw, h.using(rounds=rounds).hash(pw), h.verify)
        h = H.ldap_bcrypt
        b = pw.encode()
        also = [pw + "more"] if len(b) > 72 else []
        extra = [b[:71].decode()] if len(b) > 72 else refused(pw)
        emit(lib, "bcrypt", pw, h.using(rounds=4).hash(pw), h.verify, also=also, extra_refused=extra)
    pw = PASSWORDS[0]
    for name, scheme in (("ldap_md5_crypt", "md5-crypt"), ("ldap_sha1_crypt", "sha1-crypt"),
                         ("ldap_des_crypt", "des-crypt"), ("ldap_bsdi_crypt", "bsdi-crypt"),
                         ("ldap_salted_sha256", "ldap-ssha256"), ("ldap_salted_sha512", "ldap-ssha512"),
                         ("ldap_hex_md5", "spring-md5")):
        h = getattr(H, name)
        x = h.hash(pw)
        assert h.verify(pw, x) and not h.verify(wrong(pw), x)
        print(json.dumps({"lib": lib, "scheme": scheme, "password": pw, "wrong": wrong(pw), "hash": x,
                          "default": False, "also": [], "refused": [], "refused_scheme": True}))


MKPASSWD = subprocess.run(["mkpasswd", "--version"], capture_output=True, text=True).stdout.split("\n")[0] + " (libxcrypt)"
OPENSSL = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split(" (")[0].strip() + " passwd"

if __name__ == "__main__":
    shacrypt()
    bcrypt_xcrypt()
    phpbb()
    refused_schemes()
    ldap()
