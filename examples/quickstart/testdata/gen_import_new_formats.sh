#!/bin/sh
# Regenerates import_new_formats.csv: one user per hash format added for
# imports (WordPress/phpBB phpass, SHA-crypt, npm argon2, Spring Security),
# made by the real libraries, plus rows the importer refuses. Needs php-cli
# and WP_PHPASS (wp-includes/class-phpass.php from Debian's wordpress
# package, unpacked with dpkg-deb -x), WP68_ROOT (usr/share/wordpress of
# trixie's WordPress 6.8, unpacked the same way), Debian's python3 with
# python3-passlib, mkpasswd (Debian's whois), node with NODE_PATH holding
# npm argon2, and the Spring Security vectors (SPRING_VECTORS, default
# ../../../hashers/testdata/spring/spring-security-7.1.1.jsonl). The
# passwords are those in import_new_formats_test.go.
#
#	WP_PHPASS=/tmp/wp/usr/share/wordpress/wp-includes/class-phpass.php WP68_ROOT=/tmp/wp68/usr/share/wordpress \
#	NODE_PATH=/tmp/x/node_modules sh gen_import_new_formats.sh > import_new_formats.csv
set -eu
DEBIAN_PYTHON=${DEBIAN_PYTHON:-/usr/bin/python3}
SPRING_VECTORS=${SPRING_VECTORS:-$(dirname "$0")/../../../hashers/testdata/spring/spring-security-7.1.1.jsonl}

echo 'email,username,password_hash,active'
php -r 'require getenv("WP_PHPASS"); $h = new PasswordHash(8, true);
echo "wp@example.com,wp,", $h->HashPassword("wordpress-pw"), ",true\n";'
php -r 'function apply_filters($hook, $value, ...$args) { return $value; }
define("ABSPATH", getenv("WP68_ROOT") . "/"); define("WPINC", "wp-includes");
require ABSPATH . "wp-includes/pluggable.php";
echo "wp68@example.com,wp68,", wp_hash_password("wordpress-68-pw"), ",true\n";'
"$DEBIAN_PYTHON" - <<'PY'
import warnings; warnings.simplefilter("ignore")
from passlib.hash import phpass, sha512_crypt, md5_crypt
print('phpbb@example.com,phpbb,%s,true' % phpass.using(ident="H", rounds=11).hash('phpbb-pw'))
print('perl@example.com,perl,%s,true' % sha512_crypt.using(rounds=1000).hash('passlib-sha512-pw'))
# Refused by design: MD5-crypt.
print('old@example.com,old,%s,true' % md5_crypt.hash('md5-crypt-pw'))
PY
printf 'shadow-sha256-pw\n' | { printf 'shadow5@example.com,shadow5,'; mkpasswd -s -m sha-256 | tr -d '\n'; echo ',true'; }
printf 'shadow-sha512-pw\n' | { printf 'shadow6@example.com,shadow6,'; mkpasswd -s -m sha-512 | tr -d '\n'; echo ',true'; }
node -e 'require("argon2").hash("node-argon2-pw").then(h => console.log(`node@example.com,node,"${h}",true`))'
"$DEBIAN_PYTHON" - "$SPRING_VECTORS" <<'PY'
import json, sys
want = ["spring:{bcrypt}", "spring:{pbkdf2}-v5_5", "spring:{pbkdf2@SpringSecurity_v5_8}", "spring:raw-pbkdf2-v5_8-base64",
        "spring:{scrypt}-v4_1", "spring:raw-scrypt-v5_8", "spring:{argon2}-v5_2", "spring:{argon2@SpringSecurity_v5_8}",
        "spring:{sha256}", "spring:raw-sha256", "spring:{MD5}"]
done = set()
for line in open(sys.argv[1]):
    v = json.loads(line)
    if v["scheme"] in want and v["scheme"] not in done and v["valid"] and v["note"] == "password:ascii":
        done.add(v["scheme"])
        name = "s%02d" % want.index(v["scheme"])
        print('%s@example.com,%s,"%s",true' % (name, name, v["hash"]))
PY
# Refused: plaintext, an unsalted digest, hostile parameters.
echo 'noop@example.com,noop,{noop}password123,true'
echo 'bare@example.com,bare,482c811da5d5b4bc6d497ffa98491e38,true'
echo 'evil@example.com,evil,$6$rounds=999999999$saltsalt$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,true'
