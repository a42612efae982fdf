package hashers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// TestArgon2ShortTagsVerify checks Argon2 hashes whose tag is shorter
// than the usual 32 bytes, down to Argon2's minimum of 4 (npm argon2's
// hashLength option, argon2-cffi's hash_len): the tag length is an input
// of Argon2, so a shorter tag is not a truncated longer one, and such a
// hash verifies as its library verifies it, and is upgraded. Below 4
// bytes no Argon2 implementation writes a tag: malformed. The hashes were
// made by npm argon2 0.45.1 (testdata/vectors.jsonl).
func TestArgon2ShortTagsVerify(t *testing.T) {
	h := Default()
	ctx := context.Background()
	for _, c := range []struct{ pw, enc string }{
		{"correct horse battery staple", "$argon2id$v=19$m=256,p=1,t=1$x4dazLfs1Qg0FDG5npjK1w$3xA5xsSFQl9uY9CG"}, // 12 bytes
		{"", "$argon2id$v=19$m=256,p=1,t=1$198W6cTsreSrJM1fI73bRg$BJDdQy+u5W8"},                                  // 8 bytes
		{"correct horse battery staple", "$argon2i$v=19$m=256,p=1,t=1$9U16bSURsBuu+RqjP6xo7A$8did9w"},            // 4 bytes
	} {
		rehash, err := h.Verify(ctx, c.pw, c.enc)
		if err != nil || !rehash {
			t.Errorf("Verify(%q, %q) = %v, %v; want a match needing rehash", c.pw, c.enc, rehash, err)
		}
		if _, err := h.Verify(ctx, "not-"+c.pw, c.enc); !errors.Is(err, loginkit.ErrMismatch) {
			t.Errorf("Verify(wrong, %q) = %v; want ErrMismatch", c.enc, err)
		}
		if !h.NeedsRehash(c.enc) {
			t.Errorf("NeedsRehash(%q) = false; a short tag is upgraded", c.enc)
		}
	}
	for _, enc := range []string{
		"$argon2i$v=19$m=256,p=1,t=1$9U16bSURsBuu+RqjP6xo7A$8did", // 3 bytes
		"$argon2id$v=19$m=256,p=1,t=1$x4dazLfs1Qg0FDG5npjK1w$",    // none
	} {
		if _, err := h.Verify(ctx, "pw", enc); !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Verify(%q) = %v; want ErrUnknownHashFormat", enc, err)
		}
	}
}

// TestUnimplementedSchemesRefusedClearly checks the hash formats an
// import meets in shadow files, htpasswd files and Node databases that
// this package does not verify (Argon2d, yescrypt, gost-yescrypt, scrypt
// $7$, NetBSD's $sha1$, Sun's $md5$, BSDi and DES crypt, NT-hash $3$,
// crypt_blowfish's buggy $2x$): each is recognised and refused with
// ErrRefusedScheme under its name, before any work, and the error tells
// what to do, instead of "unrecognised hash format". The hashes were made
// by libxcrypt 4.4.33 and npm argon2 0.45.1 (testdata/vectors.jsonl),
// all of "correct horse battery staple".
func TestUnimplementedSchemesRefusedClearly(t *testing.T) {
	h := Default()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // any hashing would end in the context's error
	for enc, scheme := range map[string]string{
		"$argon2d$v=19$m=256,p=1,t=1$5QZioCYpmeJVtAQzm6nmkQ$Ndadq5QH4vIRlt+lH6DWfas87MafmTh+dp4dGgDVM3Q": "argon2d",
		"$y$j9T$abcdefghijklmnop$PVOHjxO.A4LmtReq6NnH/KSkMoVk.KXqLgud8GhZ917":                            "yescrypt",
		"$gy$j9T$abcdefghijklmnop$2rMFbSgwTFWXtyjp1SUYyGsyShLuMWOzAc4QxeBlnoA":                           "gost-yescrypt",
		"$7$CU..../....abcdefgh$Oci5ueVbluvAQj7u.xJTBV13Szx8IgDRfQMaTy4HMG5":                             "scrypt-crypt",
		"$sha1$48000$abcdefgh$iq0mp9OBBFdaCKUBZ5/9DoZ76HqE":                                              "sha1-crypt",
		"$md5$abcdefgh$MRn6G.SVcl0HvkLEKx8/d.":                                                           "sun-md5-crypt",
		"$md5,rounds=5000$abcdefgh$waP.MM7PiK2638RfSrevz1":                                               "sun-md5-crypt",
		"_J9..abcdoVzOERebA4E":                 "bsdi-crypt",
		"abhfCpXqd4GrI":                        "des-crypt",
		"./DA5yokVJ1R2":                        "des-crypt",
		"$3$$1b9d5effd34ac283c8efe2eacaea8bbc": "nthash",
		"$2x$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG": "bcrypt-2x",
		// Spring's Argon2PasswordEncoder reads Argon2d too (it writes
		// argon2id).
		"{argon2}$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA": "argon2d",
		// Drupal 7's own SHA-512 phpass variant (55 characters), and
		// its "U" mark of a phpass hash of an MD5 digest (Drupal 6
		// upgrades); these two are of that shape, not made by Drupal.
		"$S$DsaltsaltAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": "drupal7-sha512",
		"U$P$BsaltsaltAAAAAAAAAAAAAAAAAAAAAA":                     "drupal7-md5-upgraded",
	} {
		rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
		if rehash || !errors.Is(err, ErrRefusedScheme) || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Verify(%q) = %v, %v; want ErrRefusedScheme", enc, rehash, err)
			continue
		}
		if !strings.Contains(err.Error(), "reset") {
			t.Errorf("Verify(%q): %v does not tell what to do", enc, err)
		}
		if s, err := Identify(enc); s != scheme || !errors.Is(err, ErrRefusedScheme) {
			t.Errorf("Identify(%q) = %q, %v; want %q and ErrRefusedScheme", enc, s, err, scheme)
		}
	}
	// Near misses stay unknown: not every 13-character string is DES
	// crypt, nor every "$y$" string yescrypt.
	for _, enc := range []string{"abhfCpXqd4Gr!", "abhfCpXqd4Gr", "$y$", "$y$j9T", "_J9..abcd", "$3$$1b9d"} {
		if _, err := h.Verify(ctx, "pw", enc); !errors.Is(err, loginkit.ErrUnknownHashFormat) || errors.Is(err, ErrRefusedScheme) {
			t.Errorf("Verify(%q) = %v; want ErrUnknownHashFormat only", enc, err)
		}
	}
}

// TestDovecotSchemePrefixes checks Dovecot's passdb and LDAP's
// userPassword "{SCHEME}" prefixes, as doveadm pw 2.3.19.1 writes them
// (testdata/vectors.jsonl): before a crypt(3) or Argon2 string the
// string verifies as it does without the prefix, Dovecot's own {PBKDF2}
// (PBKDF2-HMAC-SHA1) verifies, a prefix naming another kind than the
// string holds is malformed, hostile rounds are refused before any work,
// and the weak schemes are refused by name.
func TestDovecotSchemePrefixes(t *testing.T) {
	h := Default()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	wantImports(t, h, pw, map[string]string{
		"{SHA512-CRYPT}$6$MCA0AuOOyunVRD.L$QNZ3Y9VJfu6Re9Zlp/8h2gMXYs392Fd2NkJP3OmaQjNln0b8dnNPIT0Wb//oUp3n7iEKmbWOrk2uoDiaadiBW0": "sha512-crypt",
		"{SHA256-CRYPT}$5$rounds=1000$y1wat7lGjS4A4uEY$9lMyXF8Ygr3g3AXfHG8oeuDBibmOpXKuhCIbaAKKvO9":                                "sha256-crypt",
		"{BLF-CRYPT}$2y$04$qgyIAtXnBUzyUjCTrYq8YuBhuUp.qSJTjdfy1BAsaM8rUAS4NQSQu":                                                  "bcrypt",
		"{CRYPT}$2y$05$fZjiSbGPW2Ri1fW9LdQySuVeHe9dpwYwpR2t5p0LAjAfY4FvRi43G":                                                      "bcrypt",
		"{PBKDF2}$1$gzRrjZayAfbZgP4G$1000$fd20b031b2bb7bd833bf7a0f4b829746f1afaec5":                                                "dovecot-pbkdf2",
		// Dovecot reads scheme names case-insensitively, and LDAP
		// entries often spell {CRYPT} in lower case.
		"{crypt}$2y$05$fZjiSbGPW2Ri1fW9LdQySuVeHe9dpwYwpR2t5p0LAjAfY4FvRi43G":                       "bcrypt",
		"{Sha256-Crypt}$5$rounds=1000$y1wat7lGjS4A4uEY$9lMyXF8Ygr3g3AXfHG8oeuDBibmOpXKuhCIbaAKKvO9": "sha256-crypt",
	})
	for _, enc := range []string{
		"{SHA512-CRYPT}$5$rounds=1000$y1wat7lGjS4A4uEY$9lMyXF8Ygr3g3AXfHG8oeuDBibmOpXKuhCIbaAKKvO9", // the prefix says $6$
		"{CRYPT}{CRYPT}$2y$05$fZjiSbGPW2Ri1fW9LdQySuVeHe9dpwYwpR2t5p0LAjAfY4FvRi43G",
		"{PBKDF2}$1$gzRrjZayAfbZgP4G$1000$fd20b031b2bb7bd833bf7a0f4b829746f1afae",   // 19 bytes
		"{PBKDF2}$2$gzRrjZayAfbZgP4G$1000$fd20b031b2bb7bd833bf7a0f4b829746f1afaec5", // version
		"{PBKDF2}$1$gzRrjZayAfbZgP4G$0$fd20b031b2bb7bd833bf7a0f4b829746f1afaec5",
		"{ARGON2ID}$argon2i$v=19$m=256,p=1,t=1$9U16bSURsBuu+RqjP6xo7A$8did9w",
	} {
		if _, err := h.Verify(ctx, pw, enc); !errors.Is(err, loginkit.ErrUnknownHashFormat) || errors.Is(err, ErrRefusedScheme) {
			t.Errorf("Verify(%q) = %v; want ErrUnknownHashFormat", enc, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel() // any hashing would end in the context's error
	for _, enc := range []string{
		"{PBKDF2}$1$gzRrjZayAfbZgP4G$99999999999$fd20b031b2bb7bd833bf7a0f4b829746f1afaec5",
		"{SHA512-CRYPT}$6$rounds=999999999$saltsalt$" + sha512Sum,
		"{ARGON2ID}$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if _, err := h.Verify(cancelled, pw, enc); !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			t.Errorf("Verify(%q) = %v; want ErrUnsafeHashParams before any work", enc, err)
		}
	}
	for enc, scheme := range map[string]string{
		"{MD5-CRYPT}$1$vyFoRkV7$2n3DJSxOESygGkUJnT87s0":       "md5-crypt",
		"{DES-CRYPT}iczUo5t3tEewE":                            "des-crypt",
		"{PLAIN}correct horse battery staple":                 "ldap-plain",
		"{SSHA512}oiXHs0czVG8BcTRL+GoAIC0fa+kkamPtXVCzGdR6Mh": "ldap-ssha512",
	} {
		_, err := h.Verify(cancelled, pw, enc)
		if s, ierr := Identify(enc); s != scheme || !errors.Is(err, ErrRefusedScheme) || !errors.Is(ierr, ErrRefusedScheme) {
			t.Errorf("Identify(%q) = %q, %v, Verify = %v; want %q and ErrRefusedScheme", enc, s, ierr, err, scheme)
		}
	}
}

// TestPasslibLDAPPBKDF2 checks passlib's ldap_pbkdf2_sha1, _sha256 and
// _sha512 (passlib 1.7.4, testdata/vectors.jsonl): "{PBKDF2}",
// "{PBKDF2-SHA256}" and "{PBKDF2-SHA512}" before passlib's PBKDF2 layout
// without its "$pbkdf2…$" ident. They verify as the unprefixed layout
// does; "{PBKDF2}" followed by "$" stays Dovecot's.
func TestPasslibLDAPPBKDF2(t *testing.T) {
	h := Default()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	wantImports(t, h, pw, map[string]string{
		"{PBKDF2}1000$9j4nRCildM4Zg9D6/39PKQ$0532JT5CrJ4EEozWT/ADyicpaY8":                                                                   "passlib-pbkdf2-sha1",
		"{PBKDF2-SHA256}1000$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2rilnI":                                            "passlib-pbkdf2-sha256",
		"{PBKDF2-SHA512}1000$b02pdU7pXctZa61VSsmZkw$fstnQTUGVpAEwBSz6H2roW9WPDtZjLV67PE3wSSeyOQHHe5HgQ3DEHHY2c/jwbwO4NQk752862ltenn4kEOF5g": "passlib-pbkdf2-sha512",
	})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Verify(cancelled, pw, "{PBKDF2-SHA256}99999999999$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2rilnI"); !errors.Is(err, loginkit.ErrUnsafeHashParams) {
		t.Errorf("hostile {PBKDF2-SHA256} iterations: %v; want ErrUnsafeHashParams before any work", err)
	}
	for _, enc := range []string{
		"{PBKDF2-SHA256}i=1000$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2rilnI", // this package's layout, not passlib's
		"{PBKDF2-SHA256}1000$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2ril",
		"{PBKDF2-MD5}1000$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2rilnI",
	} {
		if _, err := h.Verify(ctx, pw, enc); !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Verify(%q) = %v; want ErrUnknownHashFormat", enc, err)
		}
	}
}

// TestSHACryptSaltWithColon checks a SHA-crypt salt holding ':', which
// PHP's crypt() (its own SHA-crypt, not the C library's) and glibc take
// as any other byte but "$": the hash verifies. A shadow file could not
// hold it, an application's database can. The hash was made by PHP
// 8.2.31's crypt() (testdata/vectors.jsonl).
func TestSHACryptSaltWithColon(t *testing.T) {
	const enc = "$6$rounds=1000$x:y$pIBfw8WqHfiPdZcbDmwJBMSNbg2p4gnLX5QDTrrzQWtNauvYkBu1CiA9XylcCe5lYR57l5jW8n2LLhqbGmwfB1"
	h := Default()
	if rehash, err := h.Verify(context.Background(), "correct horse battery staple", enc); err != nil || !rehash {
		t.Errorf("Verify(%q) = %v, %v; want a match needing rehash", enc, rehash, err)
	}
	if _, err := h.Verify(context.Background(), "correct horse battery stapl", enc); !errors.Is(err, loginkit.ErrMismatch) {
		t.Errorf("Verify(wrong, %q) = %v; want ErrMismatch", enc, err)
	}
}

// wantImports checks each hash of want (hash → scheme name): Identify
// names its scheme, pw verifies and asks for a rehash, and another
// password is ErrMismatch.
func wantImports(t *testing.T, h *Multi, pw string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	for enc, scheme := range want {
		if s, err := Identify(enc); s != scheme || err != nil {
			t.Errorf("Identify(%q) = %q, %v; want %q", enc, s, err, scheme)
		}
		if rehash, err := h.Verify(ctx, pw, enc); err != nil || !rehash {
			t.Errorf("Verify(%q) = %v, %v; want a match needing rehash", enc, rehash, err)
		}
		if _, err := h.Verify(ctx, "not-"+pw, enc); !errors.Is(err, loginkit.ErrMismatch) {
			t.Errorf("Verify(wrong, %q) = %v; want ErrMismatch", enc, err)
		}
	}
}
