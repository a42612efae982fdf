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
//     "django-bcrypt_sha256", "django-bcrypt", "django-scrypt".
//
// An unknown, truncated or malformed hash string is an error matching
// loginkit.ErrUnknownHashFormat; a well-formed one whose parameters exceed
// the [Limits] (argon2 memory of terabytes, bcrypt cost 99, 2^40 PBKDF2
// iterations) is an error matching loginkit.ErrUnsafeHashParams, returned
// after parsing only, before any hashing work. Neither is ever a match.
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
// rehash=true, so the stored hash moves to the normalised form.
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
