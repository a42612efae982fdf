#!/bin/sh
# Regenerates import.csv: password hashes made by the real libraries of
# other ecosystems (Werkzeug, Django, passlib, the bcrypt module, PHP), for
# the import-users test. Needs python3 with werkzeug, python3 with django,
# passlib and bcrypt (Debian: python3-django python3-passlib python3-bcrypt),
# and php-cli. The passwords are those in import_test.go.
#
#	WERKZEUG_PYTHON=python3 DEBIAN_PYTHON=/usr/bin/python3 sh gen_import_csv.sh > import.csv
set -eu
WERKZEUG_PYTHON=${WERKZEUG_PYTHON:-python3}
DEBIAN_PYTHON=${DEBIAN_PYTHON:-/usr/bin/python3}

echo 'email,username,password_hash,active'
"$WERKZEUG_PYTHON" - <<'PY'
from werkzeug.security import generate_password_hash as g
# Werkzeug 3's default (scrypt) and an explicit PBKDF2.
print('wanda@example.com,wanda,"%s",true' % g('werkzeug-scrypt-pw'))
print('walt@example.com,walt,"%s",' % g('werkzeug-pbkdf2-pw', 'pbkdf2:sha256:50000'))
PY
"$DEBIAN_PYTHON" - <<'PY'
import django
from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
    'django.contrib.auth.hashers.BCryptSHA256PasswordHasher',
])
django.setup()
from django.contrib.auth.hashers import PBKDF2PasswordHasher, BCryptSHA256PasswordHasher
from passlib.hash import pbkdf2_sha256, bcrypt as pl_bcrypt, sha512_crypt
import bcrypt

class FastBCrypt(BCryptSHA256PasswordHasher):
    rounds = 6

dj = PBKDF2PasswordHasher()
print('dora@example.com,dora,%s,1' % dj.encode('django-pbkdf2-pw', dj.salt(), iterations=60000))
print('dario@example.com,dario,%s,true' % FastBCrypt().encode('django-bcrypt-pw', FastBCrypt().salt()))
print('paula@example.com,paula,%s,true' % pbkdf2_sha256.using(rounds=40000).hash('passlib-pbkdf2-pw'))
print('pablo@example.com,pablo,%s,true' % pl_bcrypt.using(rounds=6).hash('passlib-bcrypt-pw'))
print('bea@example.com,bea,%s,true' % bcrypt.hashpw(b'bcrypt-module-pw', bcrypt.gensalt(rounds=6)).decode())
# A disabled account keeps its hash but cannot log in.
print('ines@example.com,ines,%s,false' % pbkdf2_sha256.using(rounds=40000).hash('inactive-pw'))
# SHA-crypt, read since the importer learnt Unix crypt.
print('sid@example.com,sid,%s,true' % sha512_crypt.using(rounds=5000).hash('sha512-crypt-pw'))
# Rows refused for their other fields, each with a valid hash.
b = lambda: bcrypt.hashpw(b'refused-pw', bcrypt.gensalt(rounds=6)).decode()
print('WANDA@Example.com,wanda2,%s,true' % b())   # duplicate email, case-insensitive
print('newby@example.com,DORA,%s,true' % b())     # duplicate username, case-insensitive
print('mallory@example.com,mal@lory,%s,true' % b())
print('"Phoebe <phoebe@example.com>",phoebe,%s,true' % b())
print('maybe@example.com,maybe,%s,sometimes' % b())
print(',,%s,true' % b())
PY
php -r '
echo "phil@example.com,phil,", password_hash("php-bcrypt-pw", PASSWORD_BCRYPT, ["cost" => 6]), ",true\n";
// Argon2 hashes contain commas: the field must be quoted.
echo "pia@example.com,pia,\"", password_hash("php-argon2id-pw", PASSWORD_ARGON2ID), "\",true\n";
'
# Rows the importer refuses, each for its own reason.
echo 'nohash@example.com,nohash,,true'
echo 'plain@example.com,plain,hunter2,true'
echo 'trunc@example.com,trunc,$2b$06$tooShort,true'
echo 'broken@example.com,broken,"unterminated,true'
