package hashers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// fuzzFormat checks, for prefix+input, what FuzzVerify and FuzzIdentify
// check for any string: no panic, no match of a password the string was
// not made from, only the hasher sentinels, and Identify agreeing with
// Verify. Starting from a format's prefix lets the fuzzer reach deep into
// that format's parser. Seeds are in testdata/fuzz/<target>/.
func fuzzFormat(f *testing.F, prefix string) {
	h := fuzzHasher()
	f.Fuzz(func(t *testing.T, in string) {
		enc := prefix + in
		rehash, err := h.Verify(context.Background(), fuzzPassword, enc)
		if err == nil || rehash {
			t.Fatalf("Verify(%q) = %v, %v; a string not made from the password matched", enc, rehash, err)
		}
		if !knownErr(err) {
			t.Fatalf("Verify(%q) = %v; want a hasher sentinel", enc, err)
		}
		scheme, ierr := Identify(enc)
		switch {
		case ierr == nil && scheme == "":
			t.Fatalf("Identify(%q) = empty scheme, nil", enc)
		case errors.Is(ierr, loginkit.ErrUnknownHashFormat) != errors.Is(err, loginkit.ErrUnknownHashFormat):
			t.Fatalf("Identify(%q) = %v but Verify = %v", enc, ierr, err)
		case errors.Is(ierr, ErrRefusedScheme) && scheme == "":
			t.Fatalf("Identify(%q) refused an unnamed scheme: %v", enc, ierr)
		}
	})
}

// FuzzSHACrypt fuzzes the SHA-crypt parser ($5$ and $6$).
func FuzzSHACrypt(f *testing.F) { fuzzFormat(f, "$") }

// FuzzPHPass fuzzes the phpass parser ($P$ and $H$).
func FuzzPHPass(f *testing.F) { fuzzFormat(f, "$") }

// FuzzSpring fuzzes Spring Security's layouts: {id} prefixes, scrypt's
// $params$salt$key, PBKDF2 and StandardPasswordEncoder hex and Base64.
func FuzzSpring(f *testing.F) { fuzzFormat(f, "") }

// FuzzArgon2Params fuzzes the PHC argon2 parameter list (any order, each
// of m, t and p exactly once) on its own: a list it accepts has exactly
// the three names, and the values it returns are theirs.
func FuzzArgon2Params(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		m, tt, p, err := parseArgon2Params(s, "argon2id")
		if err != nil {
			if !errors.Is(err, loginkit.ErrUnknownHashFormat) {
				t.Fatalf("parseArgon2Params(%q) = %v; want ErrUnknownHashFormat", s, err)
			}
			return
		}
		got := map[string]uint64{}
		for _, kv := range strings.Split(s, ",") {
			name, val, _ := strings.Cut(kv, "=")
			if _, dup := got[name]; dup {
				t.Fatalf("parseArgon2Params(%q) accepted %q twice", s, name)
			}
			v, ok := parseNum(val)
			if !ok {
				t.Fatalf("parseArgon2Params(%q) accepted the value %q", s, val)
			}
			got[name] = v
		}
		if len(got) != 3 || got["m"] != m || got["t"] != tt || got["p"] != p {
			t.Fatalf("parseArgon2Params(%q) = m=%d t=%d p=%d; the list says %v", s, m, tt, p, got)
		}
		// The same list in this package's order parses the same.
		m2, t2, p2, err := parseArgon2Params("m="+itoa64(m)+",t="+itoa64(tt)+",p="+itoa64(p), "argon2id")
		if err != nil || m2 != m || t2 != tt || p2 != p {
			t.Fatalf("reordered %q: %d %d %d, %v", s, m2, t2, p2, err)
		}
	})
}

func itoa64(v uint64) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa64(v/10) + string(rune('0'+v%10))
}

// FuzzSchemePrefix fuzzes Dovecot's and LDAP's "{SCHEME}" prefixes and
// Dovecot's {PBKDF2} layout.
func FuzzSchemePrefix(f *testing.F) { fuzzFormat(f, "{") }
