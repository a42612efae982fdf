// Package hashers hashes and verifies passwords for loginkit.
//
// A [Multi] is a [loginkit.Hasher]: it writes new hashes in one preferred
// scheme and cost, and verifies every format the package reads, reporting
// rehash=true for a match whose hash is not in the preferred scheme and
// cost, so that Manager.Authenticate upgrades it on the next successful
// login. [Default] prefers Argon2id at the OWASP Password Storage Cheat
// Sheet parameters; [New] prefers another scheme or cost, and returns an
// error for bad options ([Must] turns it into a panic, for fixed options):
//
//	h := hashers.Default()                                                      // argon2id, m=19 MiB, t=2, p=1
//	h, err := hashers.New(hashers.SchemeBcrypt, hashers.Cost(13))               // bcrypt, cost 13
//	h := hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))) // cheap, for tests only
//
// # Formats written
//
//	argon2id      $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>  (PHC, 16-byte salt, 32-byte hash)
//	bcrypt        $2b$12$<salt><hash>
//	scrypt        $scrypt$ln=17,r=8,p=1$<salt>$<hash>           (PHC, as passlib writes it)
//	pbkdf2-sha256 $pbkdf2-sha256$i=600000$<salt>$<hash>         (PHC)
//	pbkdf2-sha512 $pbkdf2-sha512$i=210000$<salt>$<hash>         (PHC)
//
// Salts and hashes in PHC strings use standard base64 without padding.
//
// # Formats read
//
// Besides the above, Verify reads the hashes of other ecosystems, so that
// an imported user table keeps working; [Identify] names each:
//
//   - PHC argon2id and argon2i (v=19) as written by argon2-cffi, passlib
//     and PHP's password_hash: "argon2id", "argon2i";
//   - bcrypt $2a$, $2b$, $2y$ (PHP, passlib, Node's bcrypt and bcryptjs):
//     "bcrypt";
//   - passlib: $pbkdf2-sha256$, $pbkdf2-sha512$, $pbkdf2$ (SHA-1),
//     $bcrypt-sha256$ (versions 1 and 2), $scrypt$:
//     "passlib-pbkdf2-sha256", "passlib-pbkdf2-sha512",
//     "passlib-pbkdf2-sha1", "passlib-bcrypt-sha256", "scrypt";
//   - Werkzeug / Flask: pbkdf2:<digest>:<iterations>$salt$hex for sha1,
//     sha224, sha256, sha384 and sha512, and scrypt:N:r:p$salt$hex:
//     "werkzeug-pbkdf2-sha256" (and -sha1, -sha224, -sha384, -sha512),
//     "werkzeug-scrypt";
//   - Django: pbkdf2_sha256$, pbkdf2_sha1$, argon2$argon2id$ (and
//     argon2$argon2i$), bcrypt_sha256$, bcrypt$, scrypt$:
//     "django-pbkdf2_sha256", "django-pbkdf2_sha1", "django-argon2",
//     "django-bcrypt_sha256", "django-bcrypt", "django-scrypt";
//   - npm argon2 and others that write Argon2's PHC parameters in another
//     order ($argon2id$v=19$m=65536,p=4,t=3$…): m, t and p are read in any
//     order, each exactly once; a duplicate, a missing or an unknown name
//     (keyid=, data=) is malformed;
//   - Spring Security (spring-security-crypto 5.x to 7.x), with or without
//     DelegatingPasswordEncoder's "{id}" prefix: {bcrypt} ("spring-bcrypt";
//     unprefixed it is "bcrypt"), Pbkdf2PasswordEncoder hex or Base64 at
//     the v5.5 preset (HMAC-SHA1, 185,000 iterations, 8-byte salt:
//     "spring-pbkdf2-sha1") and the v5.8 preset (HMAC-SHA256, 310,000,
//     16-byte salt: "spring-pbkdf2-sha256"), told apart by length since the
//     hash does not record them; SCryptPasswordEncoder's
//     $hex(log2 N<<16|r<<8|p)$salt$key at any parameters ("spring-scrypt");
//     {argon2} ("spring-argon2"; unprefixed it is "argon2id");
//     StandardPasswordEncoder {sha256} ("spring-sha256"). An unprefixed
//     string of 80 hex digits is both the PBKDF2 v5.5 layout and
//     StandardPasswordEncoder's; Verify tries both
//     ("spring-pbkdf2-sha1-or-sha256"). As Spring's own matches() does, no
//     Spring-specific format matches the empty password;
//   - phpass portable hashes $P$ and $H$ (WordPress before 6.8, phpBB,
//     passlib's phpass): "phpass";
//   - WordPress 6.8 and later: $wp$2y$…, bcrypt of base64(HMAC-SHA384
//     keyed "wp-sha384") of the password: "wordpress-bcrypt";
//   - SHA-crypt $5$ and $6$, with rounds= (1000 to 999,999,999, as glibc
//     clamps them) or the default 5000, salts of 0 to 16 bytes of any
//     value but "$" and NUL (glibc, libxcrypt, PHP's and OpenSSL's own,
//     passlib's sha256_crypt and sha512_crypt): "sha256-crypt",
//     "sha512-crypt";
//   - Dovecot's passdb and LDAP's userPassword "{SCHEME}" prefixes (in
//     any case, as Dovecot reads them) before those strings: {CRYPT}, {SHA256-CRYPT}, {SHA512-CRYPT},
//     {BLF-CRYPT}, {ARGON2I}, {ARGON2ID} (named as the string without
//     them; the string must be of the kind the prefix names; passlib's
//     ldap_*_crypt write {CRYPT} too), Dovecot's
//     {PBKDF2}$1$salt$rounds$hex, PBKDF2-HMAC-SHA1: "dovecot-pbkdf2", and
//     passlib's ldap_pbkdf2_sha1, _sha256 and _sha512, {PBKDF2},
//     {PBKDF2-SHA256} and {PBKDF2-SHA512} before passlib's PBKDF2 layout
//     without its ident: "passlib-pbkdf2-sha1" (-sha256, -sha512).
//
// Argon2 tags (hashes) of any length from Argon2's minimum of 4 bytes are
// read, as npm argon2's hashLength and argon2-cffi's hash_len write them;
// this package writes 32.
//
// Weak legacy schemes are recognised and refused with an error matching
// [ErrRefusedScheme] (and loginkit.ErrUnknownHashFormat), and Identify
// names them, so that an import reports them: plaintext (Spring's {noop},
// Dovecot's {PLAIN}), one fast digest (Spring's {MD5}, {SHA-1},
// {SHA-256}, {MD4}, {ldap} and raw "{salt}hex", LDAP and Dovecot {SSHA},
// {SSHA512} and the like, bare hex MD5/SHA-1/SHA-256/SHA-512 digests, the
// NT hash $3$), MD5-crypt $1$ and Apache $apr1$, Sun's $md5$, NetBSD's
// $sha1$, DES and BSDi crypt. So are the formats met in imports that this
// package does not implement: Argon2d, yescrypt $y$ and $gy$ (libxcrypt's
// default for shadow files), scrypt crypt $7$, crypt_blowfish's buggy
// $2x$, Drupal 7's own $S$ and its U$ marks. Their users must reset their
// password.
//
// An unknown, truncated or malformed hash string is an error matching
// loginkit.ErrUnknownHashFormat; a well-formed one whose parameters exceed
// the [Limits] (argon2 memory of terabytes, bcrypt cost 99, 2^40 PBKDF2
// iterations, SHA-crypt rounds or phpass iterations above MaxIterations,
// Spring scrypt's N·r beyond MaxMemoryKiB) is an error matching
// loginkit.ErrUnsafeHashParams, returned after parsing only, before any
// hashing work. Neither is ever a match.
//
// # Password bytes and Unicode
//
// Passwords this package hashes are normalised to Unicode NFC first (the
// form RFC 8265's OpaqueString profile uses), so "é" typed as one code
// point or as "e" plus a combining accent is the same password. Other
// libraries hash the UTF-8 bytes they are given, unnormalised; Verify
// therefore checks formats that only other libraries write against the
// password's exact bytes, and formats this package also writes (PHC
// argon2id, scrypt and pbkdf2, bcrypt $2b$) first against the NFC form and then,
// only when the password is not already in NFC, against its exact bytes.
// A match through the exact bytes of a non-NFC password reports
// rehash=true, so the stored hash moves to the normalised form. A foreign
// hash that is byte for byte in one of these formats (an unprefixed
// Spring argon2id or $2b$ hash, say) therefore also accepts the NFD
// spelling of an NFC password, which its own library refused: both
// spellings are the same text, and this package cannot tell who wrote
// the hash. SHA-crypt, phpass and C bcrypt read passwords as C strings;
// this package reads every byte, NUL included.
//
// Passwords are limited to [DefaultMaxPasswordBytes] bytes (4096; see
// [MaxPasswordBytes]) after normalisation: Hash refuses longer ones with
// loginkit.ErrPasswordTooLong, and Verify refuses them without work with
// an error matching both ErrMismatch and ErrPasswordTooLong. When bcrypt is
// the preferred scheme, Hash also refuses passwords over bcrypt's 72 bytes
// with ErrPasswordTooLong instead of silently truncating them. Legacy
// bcrypt hashes of longer passwords, which their libraries truncated at 72
// bytes, verify the way those libraries do (only the first 72 bytes
// count) and are upgraded on login when bcrypt is not preferred.
// Django's bcrypt_sha256 and passlib's bcrypt-sha256 pre-hash the
// password with SHA-256 as those libraries define, so every byte counts.
// SHA-crypt and phpass hash the whole password in every round, so their
// cost grows with its length: Verify refuses, as too long, a password
// whose check against such a hash would cost more hash blocks than
// MaxIterations rounds of a 64-byte one (no password up to 4096 bytes at
// glibc's 5000 rounds or WordPress's 2^13 iterations; about 1.2 KiB at
// passlib's sha512_crypt default of 656,000 rounds).
// C bcrypt implementations stop at a NUL byte; this package does not, so a
// password containing NUL may not verify against a foreign bcrypt hash.
//
// # Concurrency
//
// Each Multi allows at most [Concurrency] hash computations at once
// (default GOMAXPROCS); further calls wait for a slot, and a call whose
// context ends while waiting returns the context's error, wrapped. Memory
// in use is therefore bounded by the concurrency times the largest cost
// the [Limits] admit, whatever the login rate.
//
// Digests are compared with crypto/subtle in constant time.
package hashers
