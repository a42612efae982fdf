package hashers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/conformance"
)

// cheap returns low-cost hashers of every scheme, for fast tests.
func cheap() map[string]func() *Multi {
	return map[string]func() *Multi{
		SchemeArgon2id:     func() *Multi { return Must(New(SchemeArgon2id, Memory(256), Iterations(1))) },
		SchemeBcrypt:       func() *Multi { return Must(New(SchemeBcrypt, Cost(4))) },
		SchemeScrypt:       func() *Multi { return Must(New(SchemeScrypt, Cost(8), BlockSize(4))) },
		SchemePBKDF2SHA256: func() *Multi { return Must(New(SchemePBKDF2SHA256, Iterations(500))) },
		SchemePBKDF2SHA512: func() *Multi { return Must(New(SchemePBKDF2SHA512, Iterations(500))) },
	}
}

// outdatedFor returns a hash of pw that mk's hasher must upgrade: the same
// scheme at another cost.
func outdatedFor(scheme string) func(tb testing.TB, pw string) string {
	var old *Multi
	switch scheme {
	case SchemeArgon2id:
		old = Must(New(SchemeArgon2id, Memory(128), Iterations(1)))
	case SchemeBcrypt:
		old = Must(New(SchemeBcrypt, Cost(5)))
	case SchemeScrypt:
		old = Must(New(SchemeScrypt, Cost(7), BlockSize(4)))
	case SchemePBKDF2SHA256:
		old = Must(New(SchemePBKDF2SHA256, Iterations(400)))
	case SchemePBKDF2SHA512:
		old = Must(New(SchemePBKDF2SHA512, Iterations(400)))
	}
	return func(tb testing.TB, pw string) string {
		enc, err := old.Hash(context.Background(), pw)
		if err != nil {
			tb.Fatal(err)
		}
		return enc
	}
}

func TestConformanceCheap(t *testing.T) {
	for scheme, mk := range cheap() {
		t.Run(scheme, func(t *testing.T) {
			max := 0
			if scheme == SchemeBcrypt {
				max = BcryptMaxPasswordBytes
			}
			conformance.TestHasher(t, conformance.HasherHarness{
				New:              func(testing.TB) loginkit.Hasher { return mk() },
				Outdated:         outdatedFor(scheme),
				MaxPasswordBytes: max,
			})
		})
	}
}

// TestConformanceOtherScheme checks that a hash in another scheme verifies
// and is flagged for upgrade.
func TestConformanceOtherScheme(t *testing.T) {
	conformance.TestHasher(t, conformance.HasherHarness{
		New: func(testing.TB) loginkit.Hasher {
			return Must(New(SchemeArgon2id, Memory(256), Iterations(1), MaxPasswordBytes(100)))
		},
		Outdated: func(tb testing.TB, pw string) string {
			enc, err := Must(New(SchemePBKDF2SHA256, Iterations(500))).Hash(context.Background(), pw)
			if err != nil {
				tb.Fatal(err)
			}
			return enc
		},
		MaxPasswordBytes: 100,
	})
}

// TestConformanceMaxPasswordBytes runs the suite with a configured limit.
func TestConformanceMaxPasswordBytes(t *testing.T) {
	conformance.TestHasher(t, conformance.HasherHarness{
		New: func(testing.TB) loginkit.Hasher {
			return Must(New(SchemePBKDF2SHA256, Iterations(500), MaxPasswordBytes(100)))
		},
		Outdated:         outdatedFor(SchemePBKDF2SHA256), // 400 iterations
		MaxPasswordBytes: 100,
	})
}

// TestDefaultCosts hashes and verifies once with every scheme at its
// default cost, and checks the encoded parameters. Under the race
// detector, bcrypt and scrypt at their default costs (pure Go, many times
// slower there) are left to the benchmarks and to runs without -race.
func TestDefaultCosts(t *testing.T) {
	if testing.Short() {
		t.Skip("default costs take a second or more; skipped with -short")
	}
	for _, c := range []struct {
		h      *Multi
		prefix string
	}{
		{Default(), "$argon2id$v=19$m=19456,t=2,p=1$"},
		{Must(New(SchemeBcrypt)), "$2b$12$"},
		{Must(New(SchemeScrypt)), "$scrypt$ln=17,r=8,p=1$"},
		{Must(New(SchemePBKDF2SHA256)), "$pbkdf2-sha256$i=600000$"},
		{Must(New(SchemePBKDF2SHA512)), "$pbkdf2-sha512$i=210000$"},
	} {
		if raceEnabled && (c.h.Scheme() == SchemeBcrypt || c.h.Scheme() == SchemeScrypt) {
			t.Logf("%s at default cost: skipped under the race detector", c.h.Scheme())
			continue
		}
		enc, err := c.h.Hash(context.Background(), "pässwörd")
		if err != nil || !strings.HasPrefix(enc, c.prefix) {
			t.Fatalf("%s: Hash = %q, %v; want prefix %q", c.h.Scheme(), enc, err, c.prefix)
		}
		if rehash, err := c.h.Verify(context.Background(), "pässwörd", enc); err != nil || rehash {
			t.Errorf("%s: Verify = %v, %v", c.h.Scheme(), rehash, err)
		}
		if s, err := Identify(enc); err != nil || s != c.h.Scheme() {
			t.Errorf("Identify(%q) = %q, %v", enc, s, err)
		}
	}
}

func TestEncodingShapes(t *testing.T) {
	ctx := context.Background()
	for scheme, mk := range cheap() {
		enc, err := mk().Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Identify(enc); err != nil || got != scheme {
			t.Errorf("Identify(%q) = %q, %v; want %q", enc, got, err, scheme)
		}
		if strings.ContainsAny(enc[strings.LastIndexByte(enc, '$'):], "= \n") {
			t.Errorf("%s hash %q has padding or space", scheme, enc)
		}
	}
	enc, _ := Must(New(SchemeBcrypt, Cost(4))).Hash(ctx, "pw")
	if !strings.HasPrefix(enc, "$2b$04$") || len(enc) != 60 {
		t.Errorf("bcrypt hash %q: want $2b$04$ and 60 bytes", enc)
	}
}

func TestRehashRules(t *testing.T) {
	ctx := context.Background()
	h := Must(New(SchemePBKDF2SHA256, Iterations(500)))
	cases := []struct {
		name   string
		from   *Multi
		rehash bool
	}{
		{"same scheme and cost", Must(New(SchemePBKDF2SHA256, Iterations(500))), false},
		{"lower cost", Must(New(SchemePBKDF2SHA256, Iterations(499))), true},
		{"higher cost", Must(New(SchemePBKDF2SHA256, Iterations(501))), true},
		{"other digest", Must(New(SchemePBKDF2SHA512, Iterations(500))), true},
		{"other scheme", Must(New(SchemeBcrypt, Cost(4))), true},
	}
	for _, c := range cases {
		enc, err := c.from.Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		rehash, err := h.Verify(ctx, "pw", enc)
		if err != nil || rehash != c.rehash {
			t.Errorf("%s: Verify = %v, %v; want rehash %v", c.name, rehash, err, c.rehash)
		}
		if got := h.NeedsRehash(enc); got != c.rehash {
			t.Errorf("%s: NeedsRehash = %v, want %v", c.name, got, c.rehash)
		}
	}
	if !h.NeedsRehash("garbage") {
		t.Error("NeedsRehash(garbage) = false")
	}
}

// TestUnicodeNormalisation checks that passwords are hashed in NFC, that
// the NFD spelling of the same password verifies, and that a foreign
// PHC hash of the NFD bytes verifies (and is upgraded).
func TestUnicodeNormalisation(t *testing.T) {
	ctx := context.Background()
	const nfc, nfd = "caf\u00e9", "cafe\u0301"
	for scheme, mk := range cheap() {
		h := mk()
		for _, hashed := range []string{nfc, nfd} {
			enc, err := h.Hash(ctx, hashed)
			if err != nil {
				t.Fatal(err)
			}
			for _, typed := range []string{nfc, nfd} {
				rehash, err := h.Verify(ctx, typed, enc)
				if err != nil || rehash {
					t.Errorf("%s: hashed %+q, typed %+q: Verify = %v, %v; want a match without rehash", scheme, hashed, typed, rehash, err)
				}
			}
			if _, err := h.Verify(ctx, "cafe", enc); !errors.Is(err, loginkit.ErrMismatch) {
				t.Errorf("%s: Verify(cafe) = %v", scheme, err)
			}
		}
	}
	// passlib's argon2id of the NFD bytes (from the stored vectors).
	for _, v := range loadVectors(t) {
		if v.Scheme == "argon2id" && v.Password == nfd && !v.Default {
			h := Must(New(SchemeArgon2id, Memory(v2mem(t, v.Hash)), Iterations(1), Parallelism(v2par(t, v.Hash))))
			rehash, err := h.Verify(ctx, nfd, v.Hash)
			if err != nil || !rehash {
				t.Errorf("%s NFD argon2id: Verify = %v, %v; want a match with rehash", v.Lib, rehash, err)
			}
			if _, err := h.Verify(ctx, nfc, v.Hash); !errors.Is(err, loginkit.ErrMismatch) {
				t.Errorf("%s NFD argon2id verified with the NFC spelling: %v (the library hashed the raw bytes)", v.Lib, err)
			}
		}
	}
}

func v2mem(t *testing.T, enc string) uint32 {
	s, err := parse(enc, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return uint32(s.mem)
}

func v2par(t *testing.T, enc string) int {
	s, err := parse(enc, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return int(s.threads)
}

func TestPasswordLength(t *testing.T) {
	ctx := context.Background()
	b := Must(New(SchemeBcrypt, Cost(4)))
	if b.MaxPasswordBytes() != 72 {
		t.Errorf("bcrypt MaxPasswordBytes = %d", b.MaxPasswordBytes())
	}
	if _, err := b.Hash(ctx, strings.Repeat("x", 73)); !errors.Is(err, loginkit.ErrPasswordTooLong) {
		t.Errorf("bcrypt Hash(73 bytes) = %v; want ErrPasswordTooLong", err)
	}
	// 36 two-byte letters are 72 bytes; one more is refused.
	if _, err := b.Hash(ctx, strings.Repeat("é", 36)); err != nil {
		t.Errorf("bcrypt Hash(72 bytes) = %v", err)
	}
	if _, err := b.Hash(ctx, strings.Repeat("é", 37)); !errors.Is(err, loginkit.ErrPasswordTooLong) {
		t.Errorf("bcrypt Hash(74 bytes) = %v", err)
	}
	// NFD input is measured after normalisation: 36 "e"+U+0301 (108 bytes)
	// are 72 bytes in NFC.
	if _, err := b.Hash(ctx, strings.Repeat("e\u0301", 36)); err != nil {
		t.Errorf("bcrypt Hash(108 NFD bytes = 72 NFC bytes) = %v", err)
	}
	p := Must(New(SchemePBKDF2SHA256, Iterations(10)))
	if _, err := p.Hash(ctx, strings.Repeat("x", DefaultMaxPasswordBytes+1)); !errors.Is(err, loginkit.ErrPasswordTooLong) {
		t.Errorf("Hash(4097 bytes) = %v", err)
	}
	enc, err := p.Hash(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Verify(ctx, strings.Repeat("x", 1<<20), enc)
	if !errors.Is(err, loginkit.ErrMismatch) || !errors.Is(err, loginkit.ErrPasswordTooLong) {
		t.Errorf("Verify(1 MiB password) = %v; want ErrMismatch and ErrPasswordTooLong", err)
	}
	// With bcrypt preferred, a legacy bcrypt hash of a long password
	// (truncated by its library) still verifies.
	for _, v := range loadVectors(t) {
		if v.Scheme == "bcrypt" && len(v.Password) > 72 && !v.Default {
			if _, err := b.Verify(ctx, v.Password, v.Hash); err != nil {
				t.Errorf("%s: bcrypt-preferred Verify(100-byte password) = %v", v.Lib, err)
			}
			break
		}
	}
}

// hostile are well-formed hashes with absurd parameters.
var hostile = []string{
	"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                      // 4 TiB
	"$argon2id$v=19$m=1099511627776,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                   // 1 PiB
	"$argon2id$v=19$m=65536,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                     // passes
	"$argon2id$v=19$m=1048576,t=16,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                        // m·t
	"$argon2id$v=19$m=65536,t=1,p=200$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                         // lanes
	"$argon2i$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                       //
	"argon2$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",                // django
	"$2b$99$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                                     // cost 99
	"$2y$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                                     // cost 31
	"$2b$999999999999999999999999$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",               //
	"bcrypt_sha256$$2b$20$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",                       // django
	"$bcrypt-sha256$v=2,t=2b,r=99$abcdefghijklmnopqrstuu$ABCDEFGHIJKLMNOPQRSTUVWXYZ01234",              // passlib
	"$pbkdf2-sha256$i=1099511627776$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",                // 2^40
	"$pbkdf2-sha256$1099511627776$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",                  // passlib
	"pbkdf2_sha256$1099511627776$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",                    // django
	"pbkdf2:sha256:1099511627776$salt$" + strings.Repeat("00", 32),                                     // werkzeug
	"$scrypt$ln=40,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",                         // N=2^40
	"$scrypt$ln=14,r=8,p=100000$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",                    // p
	"$scrypt$ln=20,r=1048576,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",                   // r
	"scrypt:1099511627776:8:1$salt$" + strings.Repeat("00", 64),                                        // werkzeug
	"scrypt$1099511627776$salt$8$1$" + strings.Repeat("A", 86) + "==",                                  // django
	"$scrypt$ln=99999999999999999999999999,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", //
	"$argon2id$v=19$m=99999999999999999999999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",   //
}

// TestHostileParamsRefusedBeforeWork checks that absurd parameters are
// ErrUnsafeHashParams, returned without taking a computation slot (all
// slots are held during the calls, so any hashing would block), and
// refused in under a millisecond.
func TestHostileParamsRefusedBeforeWork(t *testing.T) {
	h := Default()
	for range cap(h.sem) {
		h.sem <- struct{}{}
	}
	defer func() {
		for range cap(h.sem) {
			<-h.sem
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a call that tried to wait would fail with context.Canceled
	for _, enc := range hostile {
		best := time.Hour
		for range 5 {
			start := time.Now()
			rehash, err := h.Verify(ctx, "pw", enc)
			best = min(best, time.Since(start))
			if !errors.Is(err, loginkit.ErrUnsafeHashParams) || rehash {
				t.Fatalf("Verify(%q) = %v, %v; want ErrUnsafeHashParams", enc, rehash, err)
			}
		}
		if best > time.Millisecond {
			t.Errorf("Verify(%q) took %v at best; want under 1ms", enc, best)
		}
		if s, err := Identify(enc); s == "" || !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			t.Errorf("Identify(%q) = %q, %v; want the scheme and ErrUnsafeHashParams", enc, s, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	h := Must(New(SchemePBKDF2SHA256, Iterations(10)))
	for _, enc := range []string{
		"", "x", "$", "$2b$",
		"$2b$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ0123!",
		"$2b$4$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$argon2id$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=7,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=-1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFz", // 3-byte tag, below Argon2's 4
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$!!!",
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA$",
		"$scrypt$ln=0,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$scrypt$ln=10,r=8$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$pbkdf2-sha256$i=0$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$pbkdf2-sha256$1000$$xpg6nW4yN5ZT9I5qJRmdXMqwzxCc.w5sTiI7QZINlMM",
		"$pbkdf2-sha256$1000$tJYyBmBs7V3LOQeg1Pp/zw$xpg6nW4yN5ZT9I5qJRmdXMqwzxCc",
		"$pbkdf2$1000$tJYyBmBs7V3LOQeg1Pp/zw$xpg6nW4yN5ZT9I5qJRmdXMqwzxCc.w5sTiI7QZINlMM",
		"pbkdf2:sha256$salt$00",
		"pbkdf2:md5:1000$salt$" + strings.Repeat("00", 16),
		"pbkdf2:sha256:1000$salt$zz",
		"pbkdf2:sha256:1000$$" + strings.Repeat("00", 32),
		"pbkdf2:sha256:1000$salt$" + strings.Repeat("00", 31),
		"scrypt:1000:8:1$salt$" + strings.Repeat("00", 64),
		"scrypt:1024:8$salt$" + strings.Repeat("00", 64),
		"pbkdf2_sha256$1000$salt$aGFzaA==",
		"pbkdf2_sha256$1000$salt$extra$aGFzaA==",
		"pbkdf2_sha256$$salt$aGFzaA==",
		"bcrypt$$2b$04$short",
		"bcrypt_sha256$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$bcrypt-sha256$v=3,t=2b,r=4$abcdefghijklmnopqrstuu$ABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$bcrypt-sha256$v=2,t=2b,r=4$abcdefghijklmnopqrstu$ABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"scrypt$1024$salt$8$1$aGFzaA==",
		"md5$salt$hash", "sha1$$hash", "!", "*",
		strings.Repeat("a", 2000),
	} {
		rehash, err := h.Verify(context.Background(), "pw", enc)
		if !errors.Is(err, loginkit.ErrUnknownHashFormat) || rehash {
			t.Errorf("Verify(%q) = %v, %v; want ErrUnknownHashFormat", enc, rehash, err)
		}
		if s, err := Identify(enc); s != "" || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Identify(%q) = %q, %v; want ErrUnknownHashFormat", enc, s, err)
		}
	}
}

// TestConcurrencyBound checks that a Verify waiting for a slot returns the
// context's error when the context ends, and goes on when a slot frees.
func TestConcurrencyBound(t *testing.T) {
	h := Must(New(SchemePBKDF2SHA256, Iterations(10), Concurrency(1)))
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	h.sem <- struct{}{} // hold the only slot
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Verify(ctx, "pw", enc)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Verify while the slot is held, context cancelled: %v; want context.Canceled", err)
	}
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	<-h.sem // free the slot: the waiting Hash goes on
	if err := <-done; err != nil {
		t.Errorf("Hash after the slot freed: %v", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer dcancel()
	<-dctx.Done()
	if _, err := h.Hash(dctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with an expired context: %v", err)
	}
}

func TestOptions(t *testing.T) {
	bad := []struct {
		scheme string
		opts   []Option
	}{
		{"md5", nil},
		{SchemeBcrypt, []Option{Memory(1024)}},
		{SchemeBcrypt, []Option{Iterations(3)}},
		{SchemePBKDF2SHA256, []Option{Cost(10)}},
		{SchemeArgon2id, []Option{BlockSize(8)}},
		{SchemeBcrypt, []Option{Cost(3)}},
		{SchemeBcrypt, []Option{Cost(17)}}, // beyond MaxBcryptCost 16
		{SchemeArgon2id, []Option{Memory(4)}},
		{SchemeArgon2id, []Option{Memory(2 << 20)}},
		{SchemeArgon2id, []Option{Parallelism(0)}},
		{SchemeScrypt, []Option{Cost(0)}},
		{SchemeScrypt, []Option{Cost(30)}},
		{SchemePBKDF2SHA256, []Option{Iterations(0)}},
		{SchemePBKDF2SHA256, []Option{Concurrency(0)}},
		{SchemePBKDF2SHA256, []Option{MaxPasswordBytes(0)}},
	}
	for _, b := range bad {
		if m, err := New(b.scheme, b.opts...); err == nil {
			t.Errorf("New(%q, ...) = %v, nil; want an error", b.scheme, m.Scheme())
		}
	}
	if _, err := New(SchemeBcrypt, Cost(17), WithLimits(Limits{MaxBcryptCost: 18})); err != nil {
		t.Errorf("New(bcrypt cost 17, limit 18) = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Must(New(SchemeBcrypt, Cost(3))) did not panic")
			}
		}()
		Must(New(SchemeBcrypt, Cost(3)))
	}()
	h := Must(New(SchemeScrypt, Cost(8), BlockSize(4), Parallelism(2), Concurrency(3), WithLimits(Limits{MaxBcryptCost: 5})))
	if h.Scheme() != SchemeScrypt || cap(h.sem) != 3 {
		t.Errorf("Scrypt options not applied: %s, %d", h.Scheme(), cap(h.sem))
	}
	if _, err := h.Verify(context.Background(), "pw", "$2b$06$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"); !errors.Is(err, loginkit.ErrUnsafeHashParams) {
		t.Errorf("custom limit not applied: %v", err)
	}
}
