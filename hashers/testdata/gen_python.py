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
    # Django 3.2 (Debian bookworm's python3-django) has no scrypt hasher; it
    # arrived in Django 4.0. This follows Django 4.x's
    # ScryptPasswordHasher.encode: hashlib.scrypt over the UTF-8 password and
    # the salt string, dklen=64, standard base64, "scrypt$N$salt$r$p$hash".
    import secrets
    import string
    alphabet = string.ascii_letters + string.digits
    for pw in PASSWORDS:
        salt = "".join(secrets.choice(alphabet) for _ in range(22))
        n, r, p = 1024, 8, 1
        dk = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, dklen=64)
        h = "scrypt$%d$%s$%d$%d$%s" % (n, salt, r, p, base64.b64encode(dk).decode("ascii"))
        emit("django 4.x format via python hashlib.scrypt", "django-scrypt", pw, h)


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
