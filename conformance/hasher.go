package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/loginkit/loginkit"
)

// TestHasher checks a loginkit.Hasher against its contract: a fresh hash
// verifies with rehash=false; a wrong password is ErrMismatch; hashes are
// salted; the empty password behaves consistently; Unicode passwords round
// trip; passwords up to MaxPasswordBytes are accepted and never truncated,
// longer ones are ErrPasswordTooLong; malformed, truncated and garbage
// hash strings, hostile parameters and weak legacy schemes are an error
// (ErrMismatch, ErrUnknownHashFormat or ErrUnsafeHashParams) and never a
// match; outdated hashes verify with rehash=true; the imported hashes of
// other libraries listed in the harness verify with rehash=true, refuse
// wrong passwords and are replaced by fresh hashes; a cancelled context is
// honoured; concurrent use is safe.
// Each case runs as a subtest with the hasher from h.New.
func TestHasher(t *testing.T, h HasherHarness) {
	t.Helper()
	runHasher(wrapT(t), h)
}

// hasherSuite holds what the hasher cases share.
type hasherSuite struct {
	h   HasherHarness
	max int // longest accepted password; 0 means no limit below 4096
}

func runHasher(t suiteT, h HasherHarness) {
	t.Helper()
	s := &hasherSuite{h: h, max: h.MaxPasswordBytes}
	runSuite(t, "HasherHarness", "Hasher", []string{"Hash", "Verify"}, h.New, []suiteCase[loginkit.Hasher]{
		{"RoundTrip", s.roundTrip},
		{"WrongPassword", s.wrongPassword},
		{"Salted", s.salted},
		{"EmptyPassword", s.emptyPassword},
		{"Unicode", s.unicode},
		{"MaxPasswordBytes", s.maxPassword},
		{"MalformedHashes", s.malformed},
		{"TruncatedOrAlteredHashes", s.truncatedHashes},
		{"Outdated", s.outdated},
		{"Imported", s.imported},
		{"ContextCancelled", s.contextCancelled},
		{"Concurrent", s.concurrent},
	})
}

// hqHash hashes pw and fails the case on error or an empty hash.
func hqHash(t suiteT, hs loginkit.Hasher, pw, what string) string {
	t.Helper()
	enc, err := hs.Hash(context.Background(), pw)
	if err != nil {
		skipUnsupported(t, "Hash", err)
		t.Fatalf("Hash(%s): want no error (%s), got %v", what, "Hasher.Hash contract", err)
	}
	if enc == "" {
		t.Fatalf("Hash(%s): returned an empty hash (Hasher.Hash contract)", what)
	}
	return enc
}

// hqMatch checks that pw matches enc, and rehash is wantRehash.
func hqMatch(t suiteT, hs loginkit.Hasher, pw, enc, what string, wantRehash bool) {
	t.Helper()
	rehash, err := hs.Verify(context.Background(), pw, enc)
	if err != nil {
		skipUnsupported(t, "Verify", err)
		t.Errorf("Verify(%s): want a match (Hasher.Verify contract), got %v", what, err)
		return
	}
	if rehash != wantRehash {
		t.Errorf("Verify(%s): rehash = %v, want %v (Hasher.Verify contract: rehash only for a hash not in the preferred scheme and cost)", what, rehash, wantRehash)
	}
}

// hqMismatch checks that pw does not match enc.
func hqMismatch(t suiteT, hs loginkit.Hasher, pw, enc, what string) {
	t.Helper()
	rehash, err := hs.Verify(context.Background(), pw, enc)
	if !errors.Is(err, loginkit.ErrMismatch) {
		t.Errorf("Verify(%s): want ErrMismatch (Hasher.Verify contract), got %v", what, err)
	}
	if rehash {
		t.Errorf("Verify(%s): rehash = true on a mismatch", what)
	}
}

func (s *hasherSuite) roundTrip(t suiteT, hs loginkit.Hasher) {
	enc := hqHash(t, hs, "correct horse battery staple", "a password")
	hqMatch(t, hs, "correct horse battery staple", enc, "the same password against its fresh hash", false)
}

func (s *hasherSuite) wrongPassword(t suiteT, hs loginkit.Hasher) {
	const pw = "correct horse battery staple"
	enc := hqHash(t, hs, pw, "a password")
	for _, w := range []string{
		"Correct horse battery staple", // case
		"correct horse battery stapl",  // prefix
		pw + "e",                       // extension
		"correct horse battery st4ple", // one byte
		"",
		"wrong",
		" " + pw, // surrounding white space is part of the password
		pw + " ",
		pw + "\n",
		// So is a NUL byte and what follows it. (A trailing NUL alone is
		// not tried: PBKDF2 and scrypt, through HMAC's zero padding of
		// short keys, treat "pw" and "pw\x00" alike by their standard.)
		pw + "\x00garbage",
		pw[:10] + "\x00" + pw[10:],
	} {
		hqMismatch(t, hs, w, enc, "a wrong password "+hqQuote(w)+" (Hasher.Verify: every byte of the password counts, white space and NUL included)")
	}
	nul := hqHash(t, hs, "abc\x00def", "a password holding a NUL byte")
	hqMatch(t, hs, "abc\x00def", nul, "a password holding a NUL byte against its hash", false)
	for _, w := range []string{"abc", "abc\x00xyz", "abc\x00de"} {
		hqMismatch(t, hs, w, nul, "a wrong password "+hqQuote(w)+" against the hash of \"abc\\x00def\" (Hasher.Verify: every byte of the password counts, white space and NUL included)")
	}
}

func (s *hasherSuite) salted(t suiteT, hs loginkit.Hasher) {
	a := hqHash(t, hs, "same password", "a password")
	b := hqHash(t, hs, "same password", "the same password again")
	if a == b {
		t.Errorf("Hash twice of the same password returned the same string %q: hashes must be salted", a)
	}
	hqMatch(t, hs, "same password", a, "the first hash", false)
	hqMatch(t, hs, "same password", b, "the second hash", false)
}

func (s *hasherSuite) emptyPassword(t suiteT, hs loginkit.Hasher) {
	enc, err := hs.Hash(context.Background(), "")
	if err != nil {
		// Refusing the empty password is allowed; it must then never
		// match anything either.
		other := hqHash(t, hs, "x", "a one-byte password")
		hqMismatch(t, hs, "", other, "the empty password against the hash of \"x\"")
		return
	}
	if enc == "" {
		t.Fatal("Hash(\"\"): returned an empty hash with no error")
	}
	hqMatch(t, hs, "", enc, "the empty password against its hash", false)
	hqMismatch(t, hs, "x", enc, "\"x\" against the hash of the empty password")
	hqMismatch(t, hs, " ", enc, "\" \" against the hash of the empty password")
	other := hqHash(t, hs, "x", "a one-byte password")
	hqMismatch(t, hs, "", other, "the empty password against the hash of \"x\"")
}

func (s *hasherSuite) unicode(t suiteT, hs loginkit.Hasher) {
	pws := []string{
		"pässwörd",
		"🔑 ключ 密码",
		"パスワード",
		"Ελληνικά ✓",
	}
	hashes := make([]string, len(pws))
	for i, pw := range pws {
		hashes[i] = hqHash(t, hs, pw, "a Unicode password "+hqQuote(pw))
		hqMatch(t, hs, pw, hashes[i], "a Unicode password "+hqQuote(pw), false)
	}
	hqMismatch(t, hs, "passwörd", hashes[0], "a Unicode password with one letter changed")
	hqMismatch(t, hs, "🔒 ключ 密码", hashes[1], "a Unicode password with one emoji changed")
	hqMismatch(t, hs, pws[2], hashes[3], "another Unicode password")
}

func (s *hasherSuite) maxPassword(t suiteT, hs loginkit.Hasher) {
	n := s.max
	if n <= 0 {
		n = 4096
	}
	long := strings.Repeat("a", n-1) + "b"
	enc := hqHash(t, hs, long, "a password of the maximum length")
	hqMatch(t, hs, long, enc, "a password of the maximum length", false)
	// No silent truncation: the last byte counts.
	hqMismatch(t, hs, strings.Repeat("a", n), enc, "a maximum-length password differing in its last byte")
	hqMismatch(t, hs, long[:n-1], enc, "the maximum-length password less its last byte")
	if s.max > 0 {
		_, err := hs.Hash(context.Background(), long+"c")
		if !errors.Is(err, loginkit.ErrPasswordTooLong) {
			t.Errorf("Hash(a password of MaxPasswordBytes+1 bytes): want ErrPasswordTooLong (Hasher.Hash contract), got %v", err)
		}
	}
}

func (s *hasherSuite) malformed(t suiteT, hs loginkit.Hasher) {
	const pw = "correct horse battery staple"
	enc := hqHash(t, hs, pw, "a password")
	bad := []string{
		"",
		" ",
		"garbage",
		"$",
		"$$$$",
		"$$$$$$$$$$$$$$$$$",
		"\x00",
		"\xff\xfe",
		pw,
		"*",
		"!",
		enc[:len(enc)/2],
		enc[:len(enc)-1],
		enc[:1],
		strings.ToUpper(enc),
		" " + enc,
		enc + "$",
		strings.Repeat("$2b$", 100),
		strings.Repeat("A", 1<<16),
		"$argon2id$",
		"$argon2id$v=19$m=65536,t=3,p=4$$",
		"$argon2id$v=19$m=18446744073709551615,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=65536,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$2b$",
		"$2b$99$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$2b$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$2b$00$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$2b$12$short",
		"$scrypt$ln=60,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
		"$pbkdf2-sha256$i=1099511627776$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"pbkdf2_sha256$1099511627776$salt$aGFzaA==",
		"pbkdf2:sha256:1099511627776$salt$00",
		"scrypt:1099511627776:8:1$salt$00",
		// Spring Security, npm argon2, phpass and SHA-crypt layouts with
		// absurd parameters, and weak or plaintext schemes.
		"$argon2id$v=19$m=4294967295,p=1,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=65536,m=65536,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"{argon2}$argon2id$v=19$m=65536,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"{scrypt}$ff0801$MDEyMzQ1Njc4OWFiY2RlZg==$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"$e08ff$MDEyMzQ1Njc4OWFiY2RlZg==$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"{bcrypt}$2a$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"{pbkdf2}" + strings.Repeat("0", 80),
		"{noop}" + pw,
		"$6$rounds=999999999$saltsalt$" + strings.Repeat("a", 86),
		"$5$rounds=10$saltsalt$" + strings.Repeat("a", 43),
		"$P$Ssaltsalt" + strings.Repeat("a", 22),
		"$H$.saltsalt" + strings.Repeat("a", 22),
		"$1$saltsalt$" + strings.Repeat("a", 22),
		"$apr1$saltsalt$" + strings.Repeat("a", 22),
		"{SSHA}" + pw,
		"{MD5}" + pw,
	}
	for _, b := range bad {
		rehash, err := hs.Verify(context.Background(), pw, b)
		what := "Verify(a malformed hash " + hqQuote(b) + ")"
		if err == nil {
			t.Errorf("%s: want an error, got a match (Hasher.Verify contract: never a match for garbage)", what)
			continue
		}
		if rehash {
			t.Errorf("%s: rehash = true with error %v", what, err)
		}
		if !errors.Is(err, loginkit.ErrMismatch) && !errors.Is(err, loginkit.ErrUnknownHashFormat) && !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			t.Errorf("%s: want ErrUnknownHashFormat, ErrUnsafeHashParams or ErrMismatch, got %v", what, err)
		}
	}
}

// truncatedHashes cuts a fresh hash short, one character at a time from
// the end, and alters single characters of it: none of the results may
// verify. A hasher comparing only as many bytes as the stored digest
// holds (a prefix compare), or decoding leniently, accepts such hashes,
// so that a column too short for the hash, or an attacker able to write
// a short digest, gets a match.
func (s *hasherSuite) truncatedHashes(t suiteT, hs loginkit.Hasher) {
	const clause = "Hasher.Verify: a truncated or altered hash never matches"
	const pw = "correct horse battery staple"
	enc := hqHash(t, hs, pw, "a password")
	failures := 0
	check := func(b, how string) {
		rehash, err := hs.Verify(context.Background(), pw, b)
		if err == nil || rehash {
			t.Errorf("Verify(the right password, the hash %s %s): want an error, got rehash=%v, error %v (%s)", how, hqQuote(b), rehash, err, clause)
			failures++
		} else if !errors.Is(err, loginkit.ErrMismatch) && !errors.Is(err, loginkit.ErrUnknownHashFormat) && !errors.Is(err, loginkit.ErrUnsafeHashParams) {
			skipUnsupported(t, "Verify", err)
			t.Errorf("Verify(the hash %s): want ErrMismatch, ErrUnknownHashFormat or ErrUnsafeHashParams, got %v (%s)", how, err, clause)
			failures++
		}
	}
	for n := 1; n < len(enc) && n <= 24 && failures < 3; n++ {
		check(enc[:len(enc)-n], fmt.Sprintf("less its last %d characters", n))
	}
	for _, i := range []int{len(enc) - 1, len(enc) - 2, len(enc) - 5, len(enc) - 12} {
		if i <= 0 || failures >= 3 {
			continue
		}
		b := []byte(enc)
		b[i] = hqOther(b[i])
		check(string(b), fmt.Sprintf("with character %d of %d changed", i, len(enc)))
	}
}

// hqOther returns another character of the same kind as c, so that an
// altered hash still parses.
func hqOther(c byte) byte {
	switch {
	case c >= 'a' && c < 'z', c >= 'A' && c < 'Z', c >= '0' && c < '9':
		return c + 1
	case c == 'z' || c == 'Z' || c == '9':
		return c - 1
	}
	return 'A'
}

func (s *hasherSuite) outdated(t suiteT, hs loginkit.Hasher) {
	if s.h.Outdated == nil {
		t.Skip("HasherHarness.Outdated is nil; case skipped")
	}
	const pw = "correct horse battery staple"
	old := s.h.Outdated(t, pw)
	hqMatch(t, hs, pw, old, "an outdated hash", true)
	hqMismatch(t, hs, "wrong", old, "a wrong password against an outdated hash")
	fresh := hqHash(t, hs, pw, "the password again, as an upgrade")
	hqMatch(t, hs, pw, fresh, "the upgraded hash", false)
}

func (s *hasherSuite) imported(t suiteT, hs loginkit.Hasher) {
	if len(s.h.Imported) == 0 {
		t.Skip("HasherHarness.Imported is empty; case skipped")
	}
	for _, im := range s.h.Imported {
		what := im.Format + " hash " + hqQuote(im.Hash)
		hqMatch(t, hs, im.Password, im.Hash, "the password of an imported "+what, true)
		wrong := append([]string{"not-" + im.Password}, im.Wrong...)
		if im.Password != "" && len(im.Password) <= 72 { // bcrypt reads 72 bytes
			wrong = append(wrong, im.Password[:len(im.Password)-1])
		}
		for _, w := range wrong {
			hqMismatch(t, hs, w, im.Hash, "a wrong password "+hqQuote(w)+" against an imported "+what)
		}
		fresh := hqHash(t, hs, im.Password, "the password of an imported "+what+", as an upgrade")
		hqMatch(t, hs, im.Password, fresh, "the upgraded hash of an imported "+what, false)
	}
}

func (s *hasherSuite) contextCancelled(t suiteT, hs loginkit.Hasher) {
	const pw = "correct horse battery staple"
	enc := hqHash(t, hs, pw, "a password")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A hasher that does not wait may still answer; one that does must
	// stop with the context's error.
	if _, err := hs.Verify(ctx, pw, enc); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled context): want a match or context.Canceled, got %v", err)
	}
	if got, err := hs.Hash(ctx, pw); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(cancelled context): want a hash or context.Canceled, got %v", err)
	} else if err == nil && got == "" {
		t.Errorf("Hash(cancelled context): empty hash with no error")
	}
}

func (s *hasherSuite) concurrent(t suiteT, hs loginkit.Hasher) {
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan string, 3*workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := "concurrent password " + string(rune('a'+i))
			enc, err := hs.Hash(context.Background(), pw)
			if err != nil {
				errs <- "Hash: " + err.Error()
				return
			}
			if _, err := hs.Verify(context.Background(), pw, enc); err != nil {
				errs <- "Verify: " + err.Error()
			}
			if _, err := hs.Verify(context.Background(), pw+"!", enc); !errors.Is(err, loginkit.ErrMismatch) {
				errs <- "Verify(wrong): want ErrMismatch"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent use: %s", e)
	}
}

// hqQuote shortens and quotes s for a message.
func hqQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + strings.ToValidUTF8(s, "\uFFFD") + "\""
}
