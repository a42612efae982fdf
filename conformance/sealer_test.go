package conformance

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// refSealer is a small, correct sealer written for these tests (AES-GCM
// over JSON), with switches that break one clause of the contract each.
type refSealer struct {
	aead, old cipher.AEAD
	broken    string
	mu        sync.Mutex
	cache     map[string]*loginkit.Session
	counter   uint64
}

var refB64 = base64.RawURLEncoding.Strict()

func newRefSealer(tb testing.TB, key, oldKey string, broken string) *refSealer {
	mk := func(k string) cipher.AEAD {
		sum := sha256.Sum256([]byte(k))
		b, err := aes.NewCipher(sum[:])
		if err != nil {
			tb.Fatal(err)
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			tb.Fatal(err)
		}
		return g
	}
	s := &refSealer{aead: mk(key), broken: broken, cache: map[string]*loginkit.Session{}}
	if oldKey != "" {
		s.old = mk(oldKey)
	}
	return s
}

func (s *refSealer) Seal(x *loginkit.Session) (string, error) {
	if x == nil {
		if s.broken == "panics" {
			_ = x.UserID
		}
		return "", loginkit.ErrInvalid
	}
	c := x.Clone()
	switch s.broken {
	case "drops values":
		c.Values = nil
	case "seconds":
		c.CreatedAt = c.CreatedAt.Truncate(time.Second)
	case "modifies input":
		x.LastSeenAt = time.Now()
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	if len(p) > 2500 && s.broken != "no size limit" {
		return "", fmt.Errorf("too large: %w", loginkit.ErrInvalid)
	}
	if s.broken == "no auth" {
		return refB64.EncodeToString(p), nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	switch s.broken {
	case "fixed nonce":
	case "counter nonce":
		s.mu.Lock()
		s.counter++
		binary.BigEndian.PutUint64(nonce[4:], s.counter)
		s.mu.Unlock()
	default:
		_, _ = rand.Read(nonce)
	}
	a := s.aead
	if s.broken == "seals with old key" && s.old != nil {
		a = s.old
	}
	return refB64.EncodeToString(a.Seal(nonce, nonce, p, nil)), nil
}

func (s *refSealer) Open(v string) (*loginkit.Session, error) {
	notFound := fmt.Errorf("ref: %w", loginkit.ErrNotFound)
	if s.broken == "panics" && v == "" {
		_ = v[0]
	}
	if s.broken == "aliases" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c, ok := s.cache[v]; ok {
			return c, nil
		}
	}
	var raw []byte
	var err error
	if s.broken == "lenient base64" {
		raw, err = base64.RawURLEncoding.DecodeString(v)
	} else {
		if strings.ContainsAny(v, "\r\n") {
			return nil, notFound
		}
		raw, err = refB64.DecodeString(v)
	}
	if err != nil {
		return nil, notFound
	}
	var p []byte
	if s.broken == "no auth" {
		p = raw
	} else {
		p, err = s.open(s.aead, raw)
		if err != nil && s.old != nil && s.broken != "forgets old key" {
			p, err = s.open(s.old, raw)
		}
		if err != nil {
			return nil, notFound
		}
	}
	x := new(loginkit.Session)
	if err := json.Unmarshal(p, x); err != nil {
		return nil, notFound
	}
	for _, t := range []*time.Time{&x.CreatedAt, &x.AuthenticatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.AbsoluteExpiresAt} {
		if !t.IsZero() {
			*t = t.UTC()
		} else {
			*t = time.Time{}
		}
	}
	now := time.Now()
	if s.broken == "grace period" {
		now = now.Add(-time.Minute)
	}
	if s.broken == "zero expiry never expires" && x.ExpiresAt.IsZero() {
		x.ExpiresAt = now.Add(time.Hour)
	}
	if s.broken == "local times" {
		x.CreatedAt = x.CreatedAt.Local()
	}
	if s.broken != "ignores expiry" && (!x.ExpiresAt.After(now) || (s.broken != "ignores absolute expiry" && !x.AbsoluteExpiresAt.IsZero() && !x.AbsoluteExpiresAt.After(now))) {
		return nil, notFound
	}
	if s.broken == "aliases" {
		s.cache[v] = x
	}
	return x, nil
}

func (s *refSealer) open(a cipher.AEAD, raw []byte) ([]byte, error) {
	n := a.NonceSize()
	if len(raw) < n {
		return nil, loginkit.ErrNotFound
	}
	return a.Open(nil, raw[:n], raw[n:], nil)
}

func refHarness(broken string) SealerHarness {
	return SealerHarness{
		New: func(tb testing.TB) loginkit.SessionSealer { return newRefSealer(tb, "k1", "", broken) },
		Rotated: func(tb testing.TB) loginkit.SessionSealer {
			return newRefSealer(tb, "k2", "k1", broken)
		},
	}
}

// sealerWith returns the sealer suite run against refSealer broken the
// way broken says ("" for a correct one).
func sealerWith(broken string) func(st suiteT) {
	return func(st suiteT) { runSealer(st, refHarness(broken)) }
}

func TestSealerSuitePassesReference(t *testing.T) {
	TestSealer(t, refHarness(""))
}

func TestSealerSuiteCatchesBrokenSealers(t *testing.T) {
	wantCaught(t, []mutant{
		{"no auth", sealerWith("no auth"),
			[][2]string{{"TamperedCharacter", "a tampered value is ErrNotFound"}}},
		{"fixed nonce", sealerWith("fixed nonce"),
			[][2]string{{"FreshNonce", "each Seal must use a fresh random nonce"}}},
		{"ignores expiry", sealerWith("ignores expiry"),
			[][2]string{{"Expired", "ExpiresAt an hour ago"}}},
		{"ignores absolute expiry", sealerWith("ignores absolute expiry"),
			[][2]string{{"Expired", "AbsoluteExpiresAt two seconds ago"}}},
		{"aliases", sealerWith("aliases"),
			[][2]string{{"ReturnedValuesIsolated", "returned sessions are copies the caller may modify"}}},
		{"drops values", sealerWith("drops values"),
			[][2]string{{"RoundTrip", "every field kept): Values"}}},
		{"seconds", sealerWith("seconds"),
			[][2]string{{"RoundTrip", "every field kept): CreatedAt"}}},
		{"modifies input", sealerWith("modifies input"),
			[][2]string{{"SealDoesNotModifyInput", "Seal only reads the session"}}},
		{"lenient base64", sealerWith("lenient base64"),
			[][2]string{{"Extended", "a value Seal did not return is ErrNotFound"}}},
		{"no size limit", sealerWith("no size limit"),
			[][2]string{{"TooLarge", "over loginkit.MaxCookieBytes"}}},
		{"panics", sealerWith("panics"),
			[][2]string{{"Garbage", "Open never panics"}}},
		{"forgets old key", sealerWith("forgets old key"),
			[][2]string{{"Rotation", "old keys still open"}}},
		{"counter nonce", sealerWith("counter nonce"),
			[][2]string{{"FreshNonceAcrossInstances", "not a counter that restarts"}}},
		{"seals with old key", sealerWith("seals with old key"),
			[][2]string{{"Rotation", "a value sealed under an unknown key is ErrNotFound"}}},
		{"grace period", sealerWith("grace period"),
			[][2]string{{"Expired", "ExpiresAt two seconds ago (no grace period)"}}},
		{"zero expiry never expires", sealerWith("zero expiry never expires"),
			[][2]string{{"Expired", "ExpiresAt zero"}}},
		{"local times", sealerWith("local times"),
			[][2]string{{"RoundTrip", "CreatedAt: want a time in time.UTC"}}},
	})
}
