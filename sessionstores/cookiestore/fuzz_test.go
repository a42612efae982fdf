package cookiestore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// fuzzNow is the fixed clock of FuzzOpen: the sealed values in
// testdata/fuzz/FuzzOpen stay unexpired for it.
var fuzzNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fuzzSeeds returns the sessions FuzzOpen seals; their UserID names them.
func fuzzSeeds() map[string]*loginkit.Session {
	seeds := map[string]*loginkit.Session{}
	for i, edit := range []func(s *loginkit.Session){
		func(s *loginkit.Session) {},
		func(s *loginkit.Session) { s.Values = map[string]string{"csrf": "abc", "lang": "fr", "": ""} },
		func(s *loginkit.Session) {
			s.Key, s.Fingerprint, s.IP, s.UserAgent = "", "", "", ""
			s.CreatedAt, s.AuthenticatedAt, s.LastSeenAt, s.AbsoluteExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		},
		func(s *loginkit.Session) { s.IP, s.Remembered, s.Fresh, s.Version = "2001:db8::1", true, false, -5 },
	} {
		s := typical(fuzzNow.Add(-time.Minute))
		edit(s)
		s.UserID = "fuzz-seed-" + strconv.Itoa(i)
		seeds[s.UserID] = s
	}
	return seeds
}

// FuzzOpen checks that Open never panics and opens nothing but what Seal
// produced: random strings, mutations of sealed values and the like are
// all ErrNotFound. The seed corpus in testdata/fuzz/FuzzOpen holds values
// sealed under testKey(1).
func FuzzOpen(f *testing.F) {
	s := newStore(f, testKey(1), cookiestore.WithClock(func() time.Time { return fuzzNow }))
	seeds := fuzzSeeds()
	for _, sess := range seeds {
		v, err := s.Seal(sess)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
		b := []byte(v)
		b[len(b)/2] ^= 1
		f.Add(string(b))
		f.Add(v[:len(v)-1])
		f.Add(v + "A")
		f.Add(strings.ToUpper(v))
	}
	for _, g := range []string{"", "A", "AQ", strings.Repeat("A", 100), strings.Repeat("_", 5000), "a b", "\x00", "Zm9vYmFy"} {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.Open(v)
		if err != nil {
			if got != nil || !errors.Is(err, loginkit.ErrNotFound) {
				t.Fatalf("Open failed with %v and session %v; want nil and ErrNotFound", err, got)
			}
			return
		}
		want, ok := seeds[got.UserID]
		if !ok {
			t.Fatalf("Open accepted a value Seal never produced: session of %q", got.UserID)
		}
		if got.Key != want.Key || got.Version != want.Version || got.UserAgent != want.UserAgent || len(got.Values) != len(want.Values) {
			t.Fatalf("opened seed %q differs from what was sealed: %+v", got.UserID, got)
		}
	})
}

// TestFuzzOpenCorpus keeps the stored seed corpus meaningful: its sealed-*
// files must open (so FuzzOpen mutates real sealed values) and all others
// must not.
func TestFuzzOpenCorpus(t *testing.T) {
	s := newStore(t, testKey(1), cookiestore.WithClock(func() time.Time { return fuzzNow }))
	seeds := fuzzSeeds()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzOpen", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	opened := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: not a one-string corpus file", file)
		}
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got, err := s.Open(v)
		if want := strings.HasPrefix(filepath.Base(file), "sealed-"); want != (err == nil) {
			t.Errorf("%s: Open error %v, want it to open: %v", file, err, want)
			continue
		}
		if err == nil {
			if seeds[got.UserID] == nil {
				t.Errorf("%s: opened to unknown user %q", file, got.UserID)
			}
			opened++
		}
	}
	if opened != len(seeds) {
		t.Errorf("%d sealed corpus values opened, want %d", opened, len(seeds))
	}
}
