#!/usr/bin/env python3
"""Writes password-hash test vectors made by real Python libraries.

Run by gen.sh (not by the Go tests). Each output line is one JSON object:
  {"lib": "...", "scheme": "<hashers.Identify name>", "password": "...",
   "wrong": "...", "hash": "...", "default": bool, "also": [...]}
"also" lists other passwords the originating library itself accepts for that
hash (bcrypt's 72-byte truncation); "default" marks a hash made at the
library's default cost.

Usage: python3 gen_python.py werkzeug|django|passlib
"""
import base64
import hashlib
import json
import sys

PASSWORDS = [
    "correct horse battery staple",
    "",
    "p\u00e4ssw\u00f6rd",          # NFC
    "cafe\u0301",                  # NFD (e + combining acute)
    "\U0001f511 \u043a\u043b\u044e\u0447 \u5bc6\u7801",
    "L" * 100,                      # longer than bcrypt's 72 bytes
]


def wrong(p):
    return "not-" + p


def emit(lib, scheme, pw, h, default=False, also=()):
    print(json.dumps({"lib": lib, "scheme": scheme, "password": pw, "wrong": wrong(pw),
                      "hash": h, "default": default, "also": list(also)}))


def truncated(pw):
    b = pw.encode()
    if len(b) <= 72:
        return []
    return [b[:72].decode()]


def werkzeug():
    import importlib.metadata
    from werkzeug.security import generate_password_hash, check_password_hash
    lib = "werkzeug " + importlib.metadata.version("werkzeug")
    for pw in PASSWORDS:
        for method, scheme in [("pbkdf2:sha256:1000", "werkzeug-pbkdf2-sha256"),
                               ("pbkdf2:sha512:1000", "werkzeug-pbkdf2-sha512"),
                               ("pbkdf2:sha1:1000", "werkzeug-pbkdf2-sha1"),
                               ("scrypt:1024:8:1", "werkzeug-scrypt")]:
            h = generate_password_hash(pw, method=method)
            assert check_password_hash(h, pw) and not check_password_hash(h, wrong(pw))
            emit(lib, scheme, pw, h)
    for method, scheme in [("pbkdf2", "werkzeug-pbkdf2-sha256"), ("scrypt", "werkzeug-scrypt")]:
        pw = PASSWORDS[0]
        emit(lib, scheme, pw, generate_password_hash(pw, method=method), default=True)


def django():
    import django as dj
    from django.conf import settings
    settings.configure(PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ])
    dj.setup()
    from django.contrib.auth import hashers as dh
    lib = "django " + dj.get_version()

    class LowPBKDF2(dh.PBKDF2PasswordHasher):
        iterations = 1000

    class LowPBKDF2SHA1(dh.PBKDF2SHA1PasswordHasher):
        iterations = 1000

    class LowArgon2(dh.Argon2PasswordHasher):
        time_cost = 1
        memory_cost = 1024
        parallelism = 2

    class LowBcryptSHA256(dh.BCryptSHA256PasswordHasher):
        rounds = 4

    class LowBcrypt(dh.BCryptPasswordHasher):
        rounds = 4

    low = [(LowPBKDF2(), "django-pbkdf2_sha256"), (LowPBKDF2SHA1(), "django-pbkdf2_sha1"),
           (LowArgon2(), "django-argon2"), (LowBcryptSHA256(), "django-bcrypt_sha256"),
           (LowBcrypt(), "django-bcrypt")]
    for pw in PASSWORDS:
        for hasher, scheme in low:
            h = hasher.encode(pw, hasher.salt())
            assert hasher.verify(pw, h) and not hasher.verify(wrong(pw), h)
            also = truncated(pw) if scheme == "django-bcrypt" else []
            for a in also:
                assert hasher.verify(a, h)
            emit(lib, scheme, pw, h, also=also)
    pw = PASSWORDS[0]
    for hasher, scheme in [(dh.PBKDF2PasswordHasher(), "django-pbkdf2_sha256"),
                           (dh.Argon2PasswordHasher(), "django-argon2"),
                           (dh.BCryptSHA256PasswordHasher(), "django-bcrypt_sha256")]:
        emit(lib, scheme, pw, hasher.encode(pw, hasher.salt()), default=True)


def django_scrypt():
    # Django added ScryptPasswordHasher in 4.0; Debian bookworm's
    # python3-django is 3.2, so gen.sh runs this with Django 4.2 from
    # bookworm-backports unpacked (not installed) on PYTHONPATH: see
    # README.md. The hashes are made by Django's own hasher, at a low N so
    # the tests stay fast, plus one at Django's default cost.
    import django
    from django.conf import settings
    settings.configure()
    from django.contrib.auth import hashers as dh
    lib = "django %s" % django.get_version()

    class LowCost(dh.ScryptPasswordHasher):
        work_factor = 2 ** 10

    for pw in PASSWORDS:
        h = LowCost()
        emit(lib, "django-scrypt", pw, h.encode(pw, h.salt()))
    h = dh.ScryptPasswordHasher()
    pw = PASSWORDS[0]
    emit(lib, "django-scrypt", pw, h.encode(pw, h.salt()), default=True)


def passlib():
    import passlib as pl
    from passlib import hash as ph
    lib = "passlib " + pl.__version__
    low = [(ph.pbkdf2_sha256.using(rounds=1000), "passlib-pbkdf2-sha256"),
           (ph.pbkdf2_sha512.using(rounds=1000), "passlib-pbkdf2-sha512"),
           (ph.pbkdf2_sha1.using(rounds=1000), "passlib-pbkdf2-sha1"),
           (ph.scrypt.using(rounds=10), "scrypt"),
           (ph.argon2.using(type="ID", memory_cost=1024, rounds=1, parallelism=2), "argon2id"),
           (ph.argon2.using(type="I", memory_cost=1024, rounds=2, parallelism=1), "argon2i"),
           (ph.bcrypt.using(rounds=4, ident="2b"), "bcrypt"),
           (ph.bcrypt.using(rounds=4, ident="2a"), "bcrypt"),
           (ph.bcrypt.using(rounds=4, ident="2y"), "bcrypt"),
           (ph.bcrypt_sha256.using(rounds=4), "passlib-bcrypt-sha256"),
           (ph.bcrypt_sha256.using(rounds=4, version=1, ident="2a"), "passlib-bcrypt-sha256")]
    for pw in PASSWORDS:
        for hasher, scheme in low:
            h = hasher.hash(pw)
            assert hasher.verify(pw, h) and not hasher.verify(wrong(pw), h)
            also = truncated(pw) if scheme == "bcrypt" else []
            for a in also:
                assert hasher.verify(a, h)
            emit(lib, scheme, pw, h, also=also)
    pw = PASSWORDS[0]
    for hasher, scheme in [(ph.pbkdf2_sha256, "passlib-pbkdf2-sha256"), (ph.scrypt, "scrypt"),
                           (ph.argon2, "argon2id"), (ph.bcrypt_sha256, "passlib-bcrypt-sha256")]:
        emit(lib, scheme, pw, hasher.hash(pw), default=True)


if __name__ == "__main__":
    {"werkzeug": werkzeug, "django": django, "django-scrypt": django_scrypt,
     "passlib": passlib}[sys.argv[1]]()
