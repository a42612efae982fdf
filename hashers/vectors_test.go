package hashers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// vector is one line of testdata/vectors.jsonl (see testdata/README.md).
type vector struct {
	Lib      string   `json:"lib"`
	Scheme   string   `json:"scheme"`
	Password string   `json:"password"`
	Wrong    string   `json:"wrong"`
	Hash     string   `json:"hash"`
	Default  bool     `json:"default"`
	Also     []string `json:"also"`
	// Refused are more candidates the library refuses: truncation
	// probes and the NFD spelling of an NFC password.
	Refused []string `json:"refused"`
	// Slow marks a cost too high to verify under the race detector
	// (SHA-crypt at 250,000 rounds, bcrypt cost 7 and more, Dovecot's default Argon2, phpass 2^17
	// and more): there the row is only identified.
	Slow bool `json:"slow"`
	// RefusedScheme marks a scheme this package refuses by design or does
	// not implement (MD5-crypt, yescrypt, Argon2d, …): Verify and
	// Identify must answer ErrRefusedScheme, Identify with Scheme.
	RefusedScheme bool `json:"refused_scheme"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	f, err := os.Open("testdata/vectors.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("bad vector line %q: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return vs
}

// TestForeignVectors verifies every stored vector, made by the real
// implementations, with its password, the passwords its library also
// accepts, and a wrong password. Under the race detector it verifies one
// row of each library and scheme, and identifies the others.
func TestForeignVectors(t *testing.T) {
	h := Default()
	ctx := context.Background()
	vs := loadVectors(t)
	if len(vs) < 100 {
		t.Fatalf("only %d vectors", len(vs))
	}
	seen := map[string]bool{}
	// Under the race detector, where Go's hashing loops run many times
	// slower, one row of each library and scheme is verified and the
	// others are identified only.
	ranUnderRace := map[string]bool{}
	for _, v := range vs {
		if v.Default {
			continue // TestForeignVectorsDefaultCost
		}
		seen[v.Scheme] = true
		name := v.Lib + "/" + v.Scheme + "/" + v.Hash[:min(len(v.Hash), 24)]
		t.Run(name, func(t *testing.T) {
			if v.RefusedScheme {
				checkRefusedScheme(t, h, v)
				return
			}
			got, err := Identify(v.Hash)
			if err != nil || got != v.Scheme {
				t.Fatalf("Identify(%q) = %q, %v; want %q", v.Hash, got, err, v.Scheme)
			}
			if raceEnabled && (v.Slow || ranUnderRace[v.Lib+" "+v.Scheme]) {
				return // identified only; the full check runs without -race
			}
			ranUnderRace[v.Lib+" "+v.Scheme] = true
			rehash, err := h.Verify(ctx, v.Password, v.Hash)
			if err != nil {
				t.Fatalf("Verify(%q, %q) = %v", v.Password, v.Hash, err)
			}
			if !rehash {
				t.Errorf("Verify(%q) rehash = false; a foreign or low-cost hash must be upgraded", v.Hash)
			}
			for _, a := range v.Also {
				if _, err := h.Verify(ctx, a, v.Hash); err != nil {
					t.Errorf("Verify(%q, %q) = %v; the originating library accepts it", a, v.Hash, err)
				}
			}
			if _, err := h.Verify(ctx, v.Wrong, v.Hash); !errors.Is(err, loginkit.ErrMismatch) {
				t.Errorf("Verify(wrong %q, %q) = %v; want ErrMismatch", v.Wrong, v.Hash, err)
			}
			for _, r := range v.Refused {
				checkVerdict(t, h, v.Lib+"/"+v.Scheme, r, v.Hash, false)
			}
		})
	}
	for _, s := range []string{
		"argon2id", "argon2i", "bcrypt", "scrypt",
		"passlib-pbkdf2-sha256", "passlib-pbkdf2-sha512", "passlib-pbkdf2-sha1", "passlib-bcrypt-sha256",
		"werkzeug-pbkdf2-sha256", "werkzeug-pbkdf2-sha512", "werkzeug-pbkdf2-sha1", "werkzeug-scrypt",
		"django-pbkdf2_sha256", "django-pbkdf2_sha1", "django-argon2", "django-bcrypt_sha256", "django-bcrypt", "django-scrypt",
		"phpass", "sha256-crypt", "sha512-crypt", "wordpress-bcrypt",
	} {
		if !seen[s] {
			t.Errorf("no vector for scheme %s", s)
		}
	}
	libs := map[string]bool{}
	for _, v := range vs {
		libs[strings.Fields(v.Lib)[0]] = true
	}
	for _, l := range []string{"werkzeug", "django", "passlib", "php", "node", "wordpress", "mkpasswd"} {
		if !libs[l] {
			t.Errorf("no vector from %s", l)
		}
	}
	// npm argon2 writes its parameters as m=,p=,t=; phpBB's $H$ and
	// SHA-crypt with and without rounds= are all there.
	for _, shape := range []string{",p=1,t=1$", "$H$", "$5$rounds=", "$6$rounds=", "$P$B"} {
		found := false
		for _, v := range vs {
			found = found || strings.Contains(v.Hash, shape)
		}
		if !found {
			t.Errorf("no vector with %q", shape)
		}
	}
}

// checkRefusedScheme checks a row of a scheme refused by design or not
// implemented: its own password is refused with ErrRefusedScheme (and
// ErrUnknownHashFormat) before any work, and Identify names the scheme.
func checkRefusedScheme(t *testing.T, h *Multi, v vector) {
	t.Helper()
	got, err := Identify(v.Hash)
	if got != v.Scheme || !errors.Is(err, ErrRefusedScheme) || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
		t.Errorf("Identify(%q) = %q, %v; want %q and ErrRefusedScheme", v.Hash, got, err, v.Scheme)
	}
	// A canceled context: any hashing would end in its error instead.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, pw := range []string{v.Password, v.Wrong} {
		rehash, err := h.Verify(ctx, pw, v.Hash)
		if rehash || !errors.Is(err, ErrRefusedScheme) || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("Verify(%q, %q) = %v, %v; want ErrRefusedScheme", pw, v.Hash, rehash, err)
		}
	}
}

// TestForeignVectorsDefaultCost verifies the vectors made at each
// library's default cost (a few seconds in all), once each. Under the race
// detector the bcrypt, scrypt, SHA-crypt and phpass ones (Go loops, many
// times slower there; SHA-crypt's and phpass's defaults reach 656,000
// rounds and 2^19 iterations) are skipped; the low-cost vectors cover
// those formats.
func TestForeignVectorsDefaultCost(t *testing.T) {
	if testing.Short() {
		t.Skip("default-cost vectors take seconds; skipped with -short")
	}
	h := Default()
	n := 0
	for _, v := range loadVectors(t) {
		if !v.Default {
			continue
		}
		n++
		if raceEnabled && (strings.Contains(v.Scheme, "bcrypt") || strings.Contains(v.Scheme, "scrypt") ||
			strings.HasSuffix(v.Scheme, "-crypt") || v.Scheme == "phpass") {
			continue
		}
		rehash, err := h.Verify(context.Background(), v.Password, v.Hash)
		if err != nil || !rehash {
			t.Errorf("%s: Verify(%q) = %v, %v; want match needing rehash", v.Lib, v.Hash, rehash, err)
		}
	}
	if n < 10 {
		t.Errorf("only %d default-cost vectors", n)
	}
}
