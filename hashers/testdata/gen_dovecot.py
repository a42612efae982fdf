#!/usr/bin/env python3
"""Writes Dovecot vectors (see gen.sh and README.md): `doveadm pw` output,
"{SCHEME}" before the hash, as Dovecot's passdb and LDAP's userPassword
hold it. Every hash, candidate and refusal is checked with `doveadm pw -t`.

DOVEADM names a command running `doveadm pw` (Debian bookworm's
dovecot-core, unpacked, not installed: see README.md).

Same line format as gen_edge_crypt.py ("refused_scheme" rows for the
schemes this package refuses).

Usage: DOVEADM=/path/to/doveadm-pw /usr/bin/python3 gen_dovecot.py
"""
import json
import os
import subprocess
import unicodedata

from gen_python import PASSWORDS, wrong

DOVEADM = os.environ["DOVEADM"]
LIB = "dovecot " + os.environ.get("DOVECOT_VERSION", "?") + " doveadm pw"


def pw_hash(scheme, pw, rounds=None):
    args = [DOVEADM, "-s", scheme, "-p", pw] + (["-r", str(rounds)] if rounds else [])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def pw_check(h, pw):
    return subprocess.run([DOVEADM, "-t", h, "-p", pw], capture_output=True).returncode == 0


def refused(pw):
    out = []
    b = pw.encode()
    if len(b) > 72:
        out += [b[:72].decode(), pw + "L"]
    nfd = unicodedata.normalize("NFD", pw)
    if nfd != pw:
        out.append(nfd)
    return out


def emit(scheme, pw, h, bcrypt=False, refused_scheme=False, slow=False):
    assert pw_check(h, pw) and not pw_check(h, wrong(pw)), h
    row = {"lib": LIB, "scheme": scheme, "password": pw, "wrong": wrong(pw), "hash": h,
           "default": False, "also": [], "refused": []}
    if refused_scheme:
        row["refused_scheme"] = True
    if slow:
        row["slow"] = True
    elif bcrypt and len(pw.encode()) > 72:
        row["also"] = [pw + "more"]
        row["refused"] = [pw.encode()[:71].decode()]
    else:
        row["refused"] = refused(pw)
    for a in row["also"]:
        assert pw_check(h, a), (h, a)
    for r in row["refused"]:
        assert not pw_check(h, r), (h, r)
    print(json.dumps(row))


if __name__ == "__main__":
    for pw in PASSWORDS:
        emit("sha512-crypt", pw, pw_hash("SHA512-CRYPT", pw))
        emit("sha256-crypt", pw, pw_hash("SHA256-CRYPT", pw, 1000))
        emit("bcrypt", pw, pw_hash("BLF-CRYPT", pw, 4), bcrypt=True)
        emit("dovecot-pbkdf2", pw, pw_hash("PBKDF2", pw, 1000))
    pw = PASSWORDS[0]
    emit("bcrypt", pw, pw_hash("CRYPT", pw), bcrypt=True)  # {CRYPT}: libxcrypt's bcrypt, cost 5
    emit("dovecot-pbkdf2", pw, pw_hash("PBKDF2", pw))  # 5000 rounds, its default
    emit("argon2id", pw, pw_hash("ARGON2ID", pw), slow=True)  # m=65536, t=3, p=1
    emit("argon2i", PASSWORDS[2], pw_hash("ARGON2I", PASSWORDS[2]), slow=True)  # m=32768, t=4
    # Weak or unimplemented: one fast digest, plaintext, challenge-response
    # secrets, MD5-crypt.
    for scheme in ("MD5-CRYPT", "DES-CRYPT", "SHA1", "SSHA", "SHA256", "SSHA256", "SHA512", "SSHA512",
                   "PLAIN-MD5", "LDAP-MD5", "SMD5", "PLAIN", "CLEAR", "CRAM-MD5", "PLAIN-MD4",
                   "SCRAM-SHA-1", "SCRAM-SHA-256"):
        h = pw_hash(scheme, pw)
        name = {"MD5-CRYPT": "md5-crypt", "DES-CRYPT": "des-crypt"}.get(scheme, "ldap-" + scheme.lower())
        emit(name, pw, h, refused_scheme=True)
