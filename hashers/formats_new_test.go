package hashers

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/conformance"
)

// Well-formed pieces for hand-made hashes.
var (
	b64Salt16 = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	b64Key32  = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	sha256Sum = strings.Repeat("a", 43)
	sha512Sum = strings.Repeat("a", 86)
	phpSum    = strings.Repeat("a", 22)
)

// hostileNew are well-formed hashes of the formats Spring, npm argon2,
// phpass and SHA-crypt write, with absurd parameters. They join hostile,
// so TestHostileParamsRefusedBeforeWork, BenchmarkRefuseHostile and the
// fuzz seeds cover them.
var hostileNew = []string{
	"$6$rounds=999999999$saltsalt$" + sha512Sum,                                                               // SHA-crypt rounds, glibc's maximum
	"$5$rounds=10000001$saltsalt$" + sha256Sum,                                                                // just over MaxIterations
	"$5$rounds=99999999999999999999$saltsalt$" + sha256Sum,                                                    // beyond glibc's range
	"$P$S" + "saltsalt" + phpSum,                                                                              // phpass 2^30 iterations
	"$H$M" + "saltsalt" + phpSum,                                                                              // phpBB 2^24 iterations
	"$ff0801$" + b64Salt16 + "$" + b64Key32,                                                                   // Spring scrypt N=2^255
	"{scrypt}$280801$" + b64Salt16 + "$" + b64Key32,                                                           // N=2^40
	"{scrypt@SpringSecurity_v5_8}$11ff01$" + b64Salt16 + "$" + b64Key32,                                       // r=255 at N=2^17: 4 GiB
	"$e08ff$" + b64Salt16 + "$" + b64Key32,                                                                    // p=255
	"$2a0801$" + b64Salt16 + "$" + b64Key32,                                                                   // N=2^42: read as Spring scrypt, not bcrypt
	"$argon2id$v=19$m=4294967295,p=1,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                             // npm order, 4 TiB
	"$argon2id$v=19$p=1,t=100000,m=65536$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                             // passes
	"{argon2}$argon2id$v=19$m=65536,t=1,p=255$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                        // Spring, lanes
	"{argon2@SpringSecurity_v5_8}$argon2id$v=19$m=1073741824,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", //
	"{bcrypt}$2a$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                                    // Spring bcrypt cost 31
	"$wp$2y$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                                         // WordPress 6.8 bcrypt cost 31
	"{PBKDF2}$1$gzRrjZayAfbZgP4G$99999999999$fd20b031b2bb7bd833bf7a0f4b829746f1afaec5",                        // Dovecot PBKDF2 rounds
	"{PBKDF2-SHA256}99999999999$o3QuxXjPuZcyhpDS.h/DmA$KATjs1ytLU9v5lCMrcKb9aHYvomvEinhcN3zX2rilnI",           // passlib LDAP PBKDF2
	"{SHA512-CRYPT}$6$rounds=999999999$saltsalt$" + sha512Sum,                                                 // Dovecot SHA-crypt
	"{crypt}$2y$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                                     // LDAP bcrypt cost 31
	"$argon2i$v=19$m=4294967295,p=1,t=1$c2FsdHNhbHRzYWx0$aGFzaA",                                              // 4-byte tag, 4 TiB
	"$5$rounds=999999999$abc$WdOFgPi.ZX3ot9FsYQrwcBMakZfVdJ5fC5JMdzScxN4",                                     // OpenSSL 3.0.19's, asked for rounds=1000000000
}

func init() { hostile = append(hostile, hostileNew...) }

// TestNewFormatsHostileNamed checks that each hostile hash of a new format
// is refused as unsafe under the name of its format (the parser, not a
// fallback, recognised it).
func TestNewFormatsHostileNamed(t *testing.T) {
	want := []string{"sha512-crypt", "sha256-crypt", "sha256-crypt", "phpass", "phpass", "spring-scrypt", "spring-scrypt",
		"spring-scrypt", "spring-scrypt", "spring-scrypt", "argon2id", "argon2id", "spring-argon2", "spring-argon2", "spring-bcrypt", "wordpress-bcrypt",
		"dovecot-pbkdf2", "passlib-pbkdf2-sha256", "sha512-crypt", "bcrypt", "argon2i", "sha256-crypt"}
	for i, enc := range hostileNew {
		s, err := Identify(enc)
		if s != want[i] || !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			t.Errorf("Identify(%q) = %q, %v; want %q and ErrUnsafeHashParams", enc, s, err, want[i])
		}
	}
	// Custom limits apply to the new formats too: 8192 SHA-crypt rounds
	// and phpass's 2^13 iterations (WordPress's "B") pass, one step more
	// does not.
	h := Must(New(SchemePBKDF2SHA256, Iterations(10), WithLimits(Limits{MaxIterations: 8192})))
	for enc, unsafe := range map[string]bool{
		"$5$rounds=8192$salt$" + sha256Sum: false,
		"$5$rounds=8193$salt$" + sha256Sum: true,
		"$5$salt$" + sha256Sum:             false, // default 5000
		"$P$B" + "saltsalt" + phpSum:       false,
		"$P$C" + "saltsalt" + phpSum:       true,
		// Spring's PBKDF2 presets (185,000 and 310,000 iterations, not
		// written in the hash) go through the same check.
		"{pbkdf2}" + strings.Repeat("ab", 40):                     true,
		"{pbkdf2@SpringSecurity_v5_8}" + strings.Repeat("ab", 48): true,
		"{sha256}" + strings.Repeat("ab", 40):                     false, // 1024 digests
	} {
		_, err := h.Verify(context.Background(), "pw", enc)
		if got := errors.Is(err, loginkit.ErrUnsafeHashParams); got != unsafe {
			t.Errorf("Verify(%q) with MaxIterations 8192 = %v; want unsafe %v", enc, err, unsafe)
		}
	}
}

// TestNewFormatsMalformed lists malformed strings of the new formats:
// ErrUnknownHashFormat, never a match, never a scheme.
func TestNewFormatsMalformed(t *testing.T) {
	h := Must(New(SchemePBKDF2SHA256, Iterations(10)))
	for _, enc := range []string{
		// argon2: each parameter exactly once, no others.
		"$argon2id$v=19$m=1024,m=1024,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,x=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1,keyid=abc$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,p=1,t=$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$M=1024,p=1,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,p=0,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		// SHA-crypt
		"$5$rounds=999$salt$" + sha256Sum,
		"$5$rounds=01000$salt$" + sha256Sum,
		"$5$rounds=$salt$" + sha256Sum,
		"$5$round=1000$salt$" + sha256Sum,
		"$5$saltsaltsaltsalts$" + sha256Sum, // 17-character salt
		"$5$salt$" + sha256Sum[1:],
		"$6$salt$" + sha256Sum,
		"$5$salt$" + sha256Sum[1:] + "!",
		"$5$salt",
		"$5$a$b$c$d",
		"$6$rounds=5000$sa\x00lt$" + sha512Sum,
		// phpass
		"$P$B" + "saltsalt" + phpSum[1:],
		"$P$." + "saltsalt" + phpSum, // 2^0: below phpass's 7
		"$P$4" + "saltsalt" + phpSum, // 2^6
		"$P$T" + "saltsalt" + phpSum, // 2^31
		"$P$B" + "saltsalt" + phpSum[1:] + "!",
		"$P$B" + "salt$alt" + phpSum,
		// Spring
		"{pbkdf2}abcd",
		"{pbkdf2}" + strings.Repeat("ab", 44), // 44 bytes: no preset
		"{pbkdf2@SpringSecurity_v5_8}" + strings.Repeat("ab", 40),
		"{sha256}" + strings.Repeat("ab", 41),
		"{scrypt}$0801$" + b64Salt16 + "$" + b64Key32,
		"{scrypt}$e0001$" + b64Salt16 + "$" + b64Key32, // r=0
		"{scrypt}$e0800$" + b64Salt16 + "$" + b64Key32, // p=0
		"{scrypt}$E0801$" + b64Salt16 + "$" + b64Key32,
		"{scrypt}$e0801$" + b64Salt16 + "$" + b64Key32[:40],
		"{scrypt}$e0801$" + b64Salt16,
		"$e0801$" + b64Salt16 + "$" + base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"{argon2}x",
		"{bcrypt}$2a$10$short",
		"{bcrypt}",
		"{unknown}$2a$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"{",
		"{}",
		strings.Repeat("ab", 41),      // 82 hex digits
		strings.Repeat("z", 63) + "!", // 64 characters but not Base64
	} {
		rehash, err := h.Verify(context.Background(), "pw", enc)
		if !errors.Is(err, loginkit.ErrUnknownHashFormat) || errors.Is(err, ErrRefusedScheme) || rehash {
			t.Errorf("Verify(%q) = %v, %v; want ErrUnknownHashFormat", enc, rehash, err)
		}
		if s, err := Identify(enc); s != "" || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Identify(%q) = %q, %v; want ErrUnknownHashFormat", enc, s, err)
		}
	}
}

// TestRefusedSchemes checks the weak legacy schemes refused by design:
// Verify and Identify return ErrRefusedScheme (which also matches
// ErrUnknownHashFormat), Identify names the scheme, and no work is done.
// The hashes were made by the real libraries (passlib 1.7.4's md5_crypt,
// apr_md5_crypt and ldap_salted_sha1, Spring's vectors) for "password123".
func TestRefusedSchemes(t *testing.T) {
	h := Default()
	for enc, scheme := range map[string]string{
		"$1$CF/QGYzL$DR0MVMpDpKuzGgHASWeFx0":    "md5-crypt",
		"$apr1$SFsQAdJY$VZb1I0oD/Hl4O5TMuCwjZ1": "apr1-md5",
		"{noop}password123":                     "spring-noop",
		"{MD5}{ql1L4CEKUXcsIUD/ifJym8KEZY1idu7B9HB0Y+XNgGM=}3ef669b2723cb13da494e548c5e0f88b": "spring-md5",
		"{SSHA}0672PSkhI6MdOLLO5nZo1Xc7H5bCmDPm":                                              "ldap-ssha",
		"{SSHA}abc":                                                                           "ldap-ssha",
		"482c811da5d5b4bc6d497ffa98491e38":                                                    "unsalted-md5",
		"cbfdac6008f9cab4083784cbd1874f76618d2a97":                                            "unsalted-sha1",
		"ef92b778bafe771e89245b89ecbc08a44a4e166c06659911881f383d4473e94f":                    "unsalted-sha256",
	} {
		for range cap(h.sem) {
			h.sem <- struct{}{} // any hashing would block
		}
		rehash, err := h.Verify(context.Background(), "password123", enc)
		for range cap(h.sem) {
			<-h.sem
		}
		if rehash || !errors.Is(err, ErrRefusedScheme) || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Verify(%q) = %v, %v; want ErrRefusedScheme", enc, rehash, err)
		}
		if s, err := Identify(enc); s != scheme || !errors.Is(err, ErrRefusedScheme) {
			t.Errorf("Identify(%q) = %q, %v; want %q and ErrRefusedScheme", enc, s, err, scheme)
		}
		if !strings.Contains(err.Error(), "reset the password") {
			t.Errorf("Verify(%q): %v does not tell what to do", enc, err)
		}
	}
}

// TestSpringEmptyPassword checks that Spring's formats never match the
// empty password, as Spring's own matches() refuses it, even against a
// hash of the empty string.
func TestSpringEmptyPassword(t *testing.T) {
	// StandardPasswordEncoder's layout for "" with salt 0x00…07,
	// computed as Spring defines it; the same digest with the prefix.
	salt := []byte{0, 1, 2, 3, 4, 5, 6, 7}
	s := spec{algo: algoSpringSHA256, iter: springSHA256Iter, salt: salt}
	sum := springSHA256Sum(salt, nil, springSHA256Iter)
	s.key = sum
	if !s.matchesOne(nil) {
		t.Fatal("the computed digest does not match itself")
	}
	enc := "{sha256}" + hex.EncodeToString(append(append([]byte{}, salt...), sum...))
	if _, err := Default().Verify(context.Background(), "", enc); !errors.Is(err, loginkit.ErrMismatch) {
		t.Errorf("Verify(\"\", %q) = %v; want ErrMismatch (Spring refuses the empty password)", enc, err)
	}
	// A bcrypt hash of "": unprefixed (as PHP or passlib write it) it
	// matches "", behind Spring's {bcrypt} it does not.
	b, err := bcrypt.GenerateFromPassword(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Default().Verify(context.Background(), "", string(b)); err != nil {
		t.Errorf("Verify(\"\", %q) = %v; want a match", b, err)
	}
	if _, err := Default().Verify(context.Background(), "", "{bcrypt}"+string(b)); !errors.Is(err, loginkit.ErrMismatch) {
		t.Errorf("Verify(\"\", {bcrypt}%s) = %v; want ErrMismatch", b, err)
	}
}

// TestConformanceImported runs the conformance suite with one hash of
// each format added for imports, made by the real libraries (from
// testdata/vectors.jsonl and the Spring vectors): each verifies with its
// password, refuses the wrong ones, and is upgraded.
func TestConformanceImported(t *testing.T) {
	var imported []conformance.ImportedHash
	picked := map[string]bool{}
	for _, v := range loadVectors(t) {
		key := v.Lib + " " + v.Scheme + " " + v.Hash[:4]
		switch {
		case picked[key], v.Default, v.Slow, v.RefusedScheme, v.Password == "",
			!(v.Scheme == "phpass" || v.Scheme == "wordpress-bcrypt" || strings.HasSuffix(v.Scheme, "-crypt") || strings.Contains(v.Hash, ",p=") && strings.Contains(v.Lib, "argon2")):
			continue
		}
		picked[key] = true
		imported = append(imported, conformance.ImportedHash{Format: v.Lib + " " + v.Scheme, Hash: v.Hash, Password: v.Password, Wrong: append([]string{v.Wrong}, v.Refused...)})
	}
	// One Spring hash of each algorithm (TestSpringVectors checks them
	// all); under the race detector only the cheap ones.
	spring := map[string]bool{
		"spring:{argon2}-v5_2": true, "spring:{sha256}": true, "spring:raw-bcrypt-2y": true,
		"spring:{pbkdf2}-v5_5": !raceEnabled, "spring:{scrypt}-v4_1": !raceEnabled,
	}
	for _, v := range loadSpringVectors(t, "testdata/spring/spring-security-7.1.1.jsonl") {
		if picked[v.Scheme] || !*v.Valid || !spring[v.Scheme] {
			continue
		}
		picked[v.Scheme] = true
		imported = append(imported, conformance.ImportedHash{Format: v.Scheme, Hash: v.Hash, Password: v.Password})
	}
	if len(imported) < 15 {
		t.Fatalf("only %d imported hashes", len(imported))
	}
	conformance.TestHasher(t, conformance.HasherHarness{
		New: func(testing.TB) loginkit.Hasher {
			return Must(New(SchemeArgon2id, Memory(256), Iterations(1)))
		},
		Imported: imported,
	})
}

// TestLongPasswordWorkBounded checks that SHA-crypt and phpass, whose cost
// grows with the password's length, refuse a password too long for the
// hash's rounds under the limits (ErrPasswordTooLong, without hashing),
// and check shorter ones as usual.
func TestLongPasswordWorkBounded(t *testing.T) {
	h := Must(New(SchemePBKDF2SHA256, Iterations(10), WithLimits(Limits{MaxIterations: 8192})))
	for _, enc := range []string{
		"$6$rounds=8192$saltsalt$" + sha512Sum,
		"$5$rounds=8192$saltsalt$" + sha256Sum,
		"$P$B" + "saltsalt" + phpSum, // 2^13
	} {
		for range cap(h.sem) {
			h.sem <- struct{}{} // any hashing would block
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.Verify(ctx, strings.Repeat("x", 4096), enc)
		for range cap(h.sem) {
			<-h.sem
		}
		if !errors.Is(err, loginkit.ErrPasswordTooLong) || !errors.Is(err, loginkit.ErrMismatch) {
			t.Errorf("Verify(4096 bytes, %q) = %v; want ErrMismatch and ErrPasswordTooLong before any work", enc, err)
		}
		if _, err := h.Verify(context.Background(), strings.Repeat("x", 64), enc); !errors.Is(err, loginkit.ErrMismatch) || errors.Is(err, loginkit.ErrPasswordTooLong) {
			t.Errorf("Verify(64 bytes, %q) = %v; want a plain ErrMismatch", enc, err)
		}
	}
	// The default limits leave room for any password up to 4096 bytes at
	// glibc's default 5000 rounds and WordPress's 2^13 iterations.
	d := Default()
	for _, enc := range []string{"$6$saltsalt$" + sha512Sum, "$P$B" + "saltsalt" + phpSum} {
		s, err := parse(enc, d.limits)
		if err != nil || !s.passwordWorkOK(DefaultMaxPasswordBytes, d.limits) {
			t.Errorf("%q: a 4096-byte password is refused under the default limits (%v)", enc, err)
		}
	}
}
