package conformance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// toyHasher is a small salted, iterated SHA-256 hasher, correct with
// every knob off, used to show that TestHasher fails hashers that break
// one clause each. It is not a password hasher to use: its cost is tiny.
// Format: $toy$c=<cost>$<salt>$<digest>, base64url without padding.
type toyHasher struct {
	cost int

	rehashNever  bool // never asks for a rehash
	prefixMatch  bool // compares only as many bytes as the stored digest has
	trim         bool // trims white space off the password
	cutAtNUL     bool // reads the password up to its first NUL byte, like C
	fixedSalt    bool // the same salt for every hash
	foldCase     bool // lower-cases the password
	unsupported  bool // Verify answers errors.ErrUnsupported for other costs
	lenientParse bool // accepts a digest of any length, even empty
}

func (h *toyHasher) pw(p string) string {
	if h.trim {
		p = strings.TrimSpace(p)
	}
	if h.cutAtNUL {
		p, _, _ = strings.Cut(p, "\x00")
	}
	if h.foldCase {
		p = strings.ToLower(p)
	}
	return p
}

func toyDigest(cost int, salt []byte, pw string) []byte {
	sum := sha256.Sum256(append(append([]byte{}, salt...), pw...))
	for range cost {
		sum = sha256.Sum256(sum[:])
	}
	return sum[:]
}

func (h *toyHasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if !h.fixedSalt {
		rand.Read(salt)
	}
	enc := base64.RawURLEncoding
	return fmt.Sprintf("$toy$c=%d$%s$%s", h.cost, enc.EncodeToString(salt), enc.EncodeToString(toyDigest(h.cost, salt, h.pw(pw)))), nil
}

func (h *toyHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "toy" || !strings.HasPrefix(parts[2], "c=") {
		return false, loginkit.ErrUnknownHashFormat
	}
	cost, err := strconv.Atoi(parts[2][2:])
	if err != nil || cost < 1 || cost > 1000 || parts[2][2:] != strconv.Itoa(cost) {
		return false, loginkit.ErrUnsafeHashParams
	}
	if h.unsupported && cost != h.cost {
		return false, fmt.Errorf("toy: cost %d: %w", cost, errors.ErrUnsupported)
	}
	salt, err1 := base64.RawURLEncoding.Strict().DecodeString(parts[3])
	stored, err2 := base64.RawURLEncoding.Strict().DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(salt) != 16 {
		return false, loginkit.ErrUnknownHashFormat
	}
	if len(stored) != sha256.Size && !(h.lenientParse || h.prefixMatch) {
		return false, loginkit.ErrUnknownHashFormat
	}
	got := toyDigest(cost, salt, h.pw(pw))
	if h.prefixMatch || h.lenientParse {
		got = got[:min(len(got), len(stored))]
	}
	if subtle.ConstantTimeCompare(got, stored) != 1 {
		return false, loginkit.ErrMismatch
	}
	return cost != h.cost && !h.rehashNever, nil
}

func hasherWith(set func(h *toyHasher)) func(st suiteT) {
	return func(st suiteT) {
		runHasher(st, HasherHarness{
			New: func(testing.TB) loginkit.Hasher {
				h := &toyHasher{cost: 3}
				set(h)
				return h
			},
			Outdated: func(tb testing.TB, pw string) string {
				h := &toyHasher{cost: 2}
				set(h)
				h.cost = 2
				enc, err := h.Hash(context.Background(), pw)
				if err != nil {
					tb.Fatal(err)
				}
				return enc
			},
		})
	}
}

func TestHasherSuitePassesToyHasher(t *testing.T) {
	rec := runRecorded(t, hasherWith(func(*toyHasher) {}))
	if len(rec.failures) != 0 {
		t.Errorf("the suite does not pass the reference toy hasher: %s", rec)
	}
}

func TestHasherSuiteCatchesBrokenHashers(t *testing.T) {
	wantCaught(t, []mutant{
		{"never asks for a rehash", hasherWith(func(h *toyHasher) { h.rehashNever = true }),
			[][2]string{{"Outdated", "rehash = false, want true"}}},
		{"compares a prefix of the digest", hasherWith(func(h *toyHasher) { h.prefixMatch = true }),
			[][2]string{{"TruncatedOrAlteredHashes", "a truncated or altered hash never matches"}}},
		{"accepts a digest of any length", hasherWith(func(h *toyHasher) { h.lenientParse = true }),
			[][2]string{{"TruncatedOrAlteredHashes", "a truncated or altered hash never matches"}}},
		{"trims the password", hasherWith(func(h *toyHasher) { h.trim = true }),
			[][2]string{{"WrongPassword", "white space and NUL included"}}},
		{"reads the password up to a NUL", hasherWith(func(h *toyHasher) { h.cutAtNUL = true }),
			[][2]string{{"WrongPassword", "white space and NUL included"}}},
		{"one salt for every hash", hasherWith(func(h *toyHasher) { h.fixedSalt = true }),
			[][2]string{{"Salted", "hashes must be salted"}}},
		{"password case folded", hasherWith(func(h *toyHasher) { h.foldCase = true }),
			[][2]string{{"WrongPassword", "want ErrMismatch"}}},
		{"other costs declared unsupported", hasherWith(func(h *toyHasher) { h.unsupported = true }),
			[][2]string{{"Outdated", "Hasher.Verify may not answer"}}},
	})
}
