#!/usr/bin/env python3
"""Writes default-cost rows for Spring Security's encoders (see gen.sh).

Maven Central is not reachable here, so these rows are not made anew: they
are taken from the Spring vectors made and judged by spring-security-crypto
7.1.1's own encoders (spring/spring-security-7.1.1.jsonl, see README.md):
for each preset, its first hash of the ASCII password, that password, and
a candidate Spring's matches() refused for it. They give the timing
benchmark of the root package (which reads the default-cost rows of
vectors.jsonl) one row per Spring preset. "scheme" is the hashers.Identify
name, given on the command line's side as a table below.

Usage: python3 gen_spring_rows.py spring/spring-security-7.1.1.jsonl
"""
import json
import sys

PRESETS = {  # Spring scheme -> hashers.Identify name
    "spring:{bcrypt}": "spring-bcrypt",
    "spring:{pbkdf2}-v5_5": "spring-pbkdf2-sha1",
    "spring:{pbkdf2@SpringSecurity_v5_8}": "spring-pbkdf2-sha256",
    "spring:{scrypt}-v4_1": "spring-scrypt",
    "spring:{scrypt@SpringSecurity_v5_8}": "spring-scrypt",
    "spring:{argon2}-v5_2": "spring-argon2",
    "spring:{argon2@SpringSecurity_v5_8}": "spring-argon2",
    "spring:{sha256}": "spring-sha256",
    "spring:raw-sha256": "spring-pbkdf2-sha1-or-sha256",
}

rows = [json.loads(l) for l in open(sys.argv[1])]
for scheme, name in PRESETS.items():
    ok = next(r for r in rows if r["scheme"] == scheme and r["valid"] and r["note"] == "password:ascii")
    bad = next(r for r in rows if r["hash"] == ok["hash"] and not r["valid"])
    print(json.dumps({"lib": "spring-security-crypto %s %s" % (ok["library_version"], scheme[len("spring:"):]),
                      "scheme": name, "password": ok["password"], "wrong": bad["password"], "hash": ok["hash"],
                      "default": True, "also": []}))
