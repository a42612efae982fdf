#!/bin/sh
# Regenerates vectors.jsonl with the real implementations. Not run by the
# tests, which read the stored file. See README.md for what it needs.
set -eu
cd "$(dirname "$0")"
PYWZ=${PYWZ:-python3}              # a python3 with werkzeug
PYDEB=${PYDEB:-/usr/bin/python3}   # Debian's python3 with python3-django, -passlib, -argon2, -bcrypt
NODE_MODULES=${NODE_MODULES:?set NODE_MODULES to a node_modules dir with bcrypt, bcryptjs and argon2}
WP_PHPASS=${WP_PHPASS:?set WP_PHPASS to wp-includes/class-phpass.php of an unpacked wordpress package (see README.md)}
WP68_ROOT=${WP68_ROOT:?set WP68_ROOT to usr/share/wordpress of an unpacked WordPress 6.8 package (see README.md)}
{
  "$PYWZ" gen_python.py werkzeug
  "$PYDEB" gen_python.py django
  PYTHONPATH=${DJANGO4:?set DJANGO4 to an unpacked Django 4 (see README.md)} "$PYDEB" gen_python.py django-scrypt
  "$PYDEB" gen_python.py passlib
  php gen.php
  NODE_PATH="$NODE_MODULES" node gen.js
  WP_PHPASS="$WP_PHPASS" php gen_phpass.php
  WP_ROOT="$WP68_ROOT" php gen_wordpress.php
  "$PYDEB" gen_crypt.py passlib
  "$PYDEB" gen_crypt.py mkpasswd
  NODE_PATH="$NODE_MODULES" node gen_argon2.js
  "$PYDEB" gen_spring_rows.py spring/spring-security-7.1.1.jsonl
  # Edge cases: salts, rounds and counts at their bounds, costs 4..12,
  # non-default Argon2 parameters and tag lengths, long passwords, and the
  # Unix-crypt schemes refused by design.
  "$PYDEB" gen_edge_crypt.py
  WP_PHPASS="$WP_PHPASS" WP68_ROOT="$WP68_ROOT" php gen_edge.php
  NODE_PATH="$NODE_MODULES" node gen_edge.js
  DOVEADM=${DOVEADM:?set DOVEADM to a doveadm pw command (see README.md)} "$PYDEB" gen_dovecot.py
} > vectors.jsonl.tmp
mv vectors.jsonl.tmp vectors.jsonl
wc -l vectors.jsonl
