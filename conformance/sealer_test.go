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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// sealerRecorder is a suiteT that records failures instead of reporting
// them, so that a test can run the sealer suite against a deliberately
// broken sealer and check that the suite notices.
type sealerRecorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
	name   string
}

func (r *sealerRecorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, r.name+": "+msg)
}

func (r *sealerRecorder) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *sealerRecorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *sealerRecorder) Fail()                             { r.record("Fail") }
func (r *sealerRecorder) FailNow()                          { r.record("FailNow"); runtime.Goexit() }
func (r *sealerRecorder) Fatal(args ...any)                 { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *sealerRecorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *sealerRecorder) SkipNow()                         { runtime.Goexit() }
func (r *sealerRecorder) Skip(args ...any)                 { runtime.Goexit() }
func (r *sealerRecorder) Skipf(format string, args ...any) { runtime.Goexit() }
func (r *sealerRecorder) Log(args ...any)                  {}
func (r *sealerRecorder) Logf(format string, args ...any)  {}
func (r *sealerRecorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failed) > 0
}

// Run runs f in its own goroutine, so that Fatal and Skip end only f.
func (r *sealerRecorder) Run(name string, f func(t suiteT)) bool {
	sub := &sealerRecorder{TB: r.TB, name: r.name + "/" + name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(sub)
	}()
	<-done
	r.mu.Lock()
	r.failed = append(r.failed, sub.failed...)
	r.mu.Unlock()
	return len(sub.failed) == 0
}

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

func TestSealerSuitePassesReference(t *testing.T) {
	TestSealer(t, refHarness(""))
}

func TestSealerSuiteCatchesBrokenSealers(t *testing.T) {
	for _, c := range []struct {
		broken string
		want   string // the case that must report it
	}{
		{"no auth", "TamperedCharacter"},
		{"fixed nonce", "FreshNonce"},
		{"ignores expiry", "Expired"},
		{"ignores absolute expiry", "Expired"},
		{"aliases", "ReturnedValuesIsolated"},
		{"drops values", "RoundTrip"},
		{"seconds", "RoundTrip"},
		{"modifies input", "SealDoesNotModifyInput"},
		{"lenient base64", "Extended"},
		{"no size limit", "TooLarge"},
		{"panics", "Garbage"},
		{"forgets old key", "Rotation"},
		{"counter nonce", "FreshNonceAcrossInstances"},
		{"seals with old key", "Rotation"},
		{"grace period", "Expired"},
		{"zero expiry never expires", "Expired"},
		{"local times", "RoundTrip"},
	} {
		t.Run(strings.ReplaceAll(c.broken, " ", "_"), func(t *testing.T) {
			r := &sealerRecorder{TB: t, name: "TestSealer"}
			runSealer(r, refHarness(c.broken))
			if !r.Failed() {
				t.Fatalf("the suite passed a sealer that %s", c.broken)
			}
			found := false
			for _, f := range r.failed {
				if strings.HasPrefix(f, "TestSealer/"+c.want+":") {
					found = true
				}
			}
			if !found {
				t.Errorf("the suite failed a sealer that %s, but not in case %s; failures: %q", c.broken, c.want, r.failed)
			}
			t.Logf("first failure: %s", r.failed[0])
		})
	}
}
