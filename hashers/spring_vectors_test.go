package hashers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/loginkit/loginkit"
)

// springVector is one line of testdata/spring/*.jsonl: a hash made by
// Spring Security's own encoders and the verdict of its own matches()
// for one candidate password (see testdata/spring/README.md).
type springVector struct {
	Scheme   string `json:"scheme"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Valid    *bool  `json:"valid"`
	Note     string `json:"note"`
	Default  bool   `json:"default_params"`
}

func loadSpringVectors(tb testing.TB, path string) []springVector {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var vs []springVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v springVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return vs
}

// ownFormats are the schemes this package writes: for them, Verify also
// accepts the NFC form of a non-NFC password (see the package doc), so
// the NFD spelling of an NFC password matches an unprefixed Spring
// argon2id or $2b$ hash although Spring's matches() refuses it.
var ownFormats = map[string]bool{
	SchemeArgon2id: true, SchemeBcrypt: true, SchemeScrypt: true, SchemePBKDF2SHA256: true, SchemePBKDF2SHA512: true,
}

// springRefused are the Spring encoders this package refuses by design
// (one fast digest, or plaintext): their hashes are ErrRefusedScheme
// whatever the password.
var springRefused = map[string]bool{
	"spring:{MD5}": true, "spring:{SHA-1}": true, "spring:{SHA-256}": true, "spring:{MD4}": true, "spring:{ldap}": true,
	"spring:raw-MD5": true, "spring:raw-SHA-1": true, "spring:raw-SHA-256": true, "spring:raw-MD4": true, "spring:raw-ldap": true,
}

// slowUnderRace reports the Spring presets left out under the race
// detector: scrypt at 16 and 64 MiB, bcrypt cost 10, PBKDF2 at 185,000
// and 310,000 iterations.
func slowUnderRace(scheme string) bool {
	return strings.Contains(scheme, "scrypt") || strings.Contains(scheme, "pbkdf2") ||
		scheme == "spring:{bcrypt}" || scheme == "spring:raw-bcrypt" || scheme == "spring:raw-sha256"
}

// refusedByDesign reports the scheme names Identify gives the weak
// schemes this package refuses (see ErrRefusedScheme and the README).
func refusedByDesign(id string) bool {
	switch id {
	case "spring-noop", "spring-md4", "spring-md5", "spring-sha-1", "spring-sha-256", "spring-sha-384", "spring-sha-512",
		"spring-ldap", "spring-message-digest", "md5-crypt", "apr1-md5",
		"sun-md5-crypt", "sha1-crypt", "des-crypt", "bsdi-crypt", "nthash",
		"argon2d", "yescrypt", "gost-yescrypt", "scrypt-crypt", "bcrypt-2x",
		"drupal7-sha512", "drupal7-md5-upgraded":
		return true
	}
	return strings.HasPrefix(id, "ldap-") || strings.HasPrefix(id, "unsalted-")
}

// sharedFormats are the schemes Identify gives unprefixed hashes that
// other libraries write too: those accept the empty password, which
// Spring's matches() alone refuses, so an unprefixed Spring hash of ""
// matches "" here.
var sharedFormats = map[string]bool{"bcrypt": true, "argon2id": true, "argon2i": true}

// checkVerdict checks Verify's answer for one (password, hash) pair whose
// verdict by the originating library is valid. The documented departures
// from a library's verdict are the only ones allowed: schemes refused by
// design, the NFC form of a password against a format this package
// writes, and the empty password against an unprefixed hash in a format
// other libraries share.
func checkVerdict(t *testing.T, h *Multi, scheme, password, hash string, valid bool) {
	t.Helper()
	ctx := context.Background()
	rehash, err := h.Verify(ctx, password, hash)
	id, ierr := Identify(hash)
	switch {
	case springRefused[scheme] || strings.HasPrefix(scheme, "spring:{noop}") || errors.Is(ierr, ErrRefusedScheme):
		if !errors.Is(err, ErrRefusedScheme) || !errors.Is(err, loginkit.ErrUnknownHashFormat) {
			t.Errorf("%s: Verify(%q) = %v; want ErrRefusedScheme (refused by design)", scheme, hash, err)
		}
		if !refusedByDesign(id) || !errors.Is(ierr, ErrRefusedScheme) {
			t.Errorf("%s: Identify(%q) = %q, %v; want a scheme refused by design and ErrRefusedScheme", scheme, hash, id, ierr)
		}
	case valid:
		if err != nil || !rehash {
			t.Errorf("%s: Verify(%q, %q) = %v, %v; want a match needing rehash", scheme, password, hash, rehash, err)
		}
	case err == nil && !norm.NFC.IsNormalString(password):
		// A canonically equivalent spelling of the password, against a
		// format this package writes.
		if !ownFormats[id] {
			t.Errorf("%s: Verify(non-NFC %q, %q) matched a %s hash; only formats this package writes accept the NFC form", scheme, password, hash, id)
		}
		if _, err := h.Verify(ctx, norm.NFC.String(password), hash); err != nil {
			t.Errorf("%s: the NFD spelling %q matched %q but its NFC form does not: %v", scheme, password, hash, err)
		}
	case err == nil && password == "" && strings.HasPrefix(scheme, "spring:"):
		// Spring refuses "" whatever the hash; an unprefixed bcrypt or
		// argon2 hash cannot be told from another library's.
		if !sharedFormats[id] {
			t.Errorf("%s: Verify(\"\", %q) matched a %s hash; Spring-specific formats must refuse the empty password", scheme, hash, id)
		}
	default:
		if !errors.Is(err, loginkit.ErrMismatch) || rehash {
			t.Errorf("%s: Verify(wrong %q, %q) = %v, %v; want ErrMismatch", scheme, password, hash, rehash, err)
		}
	}
}

// TestSpringVectors checks every row of the Spring Security vectors (made
// and judged by spring-security-crypto 7.1.1's own encoders) against
// Verify: Spring's valid pairs match and ask for a rehash, its refused
// candidates are ErrMismatch, and the encoders refused by design are
// ErrRefusedScheme. Under the race detector, where Go loops run many
// times slower, every row is only parsed, and one valid row of each
// scheme is verified except for Spring's default-cost scrypt, bcrypt and
// PBKDF2 (the low-cost vectors of testdata/vectors.jsonl cover those
// algorithms there); the full set runs without -race.
func TestSpringVectors(t *testing.T) {
	if testing.Short() {
		t.Skip("Spring's default costs take seconds; skipped with -short")
	}
	vs := loadSpringVectors(t, "testdata/spring/spring-security-7.1.1.jsonl")
	if len(vs) < 300 {
		t.Fatalf("only %d Spring vectors", len(vs))
	}
	h := Default()
	type key struct {
		scheme string
		valid  bool
	}
	ran := map[key]bool{}
	schemes := map[string]bool{}
	for _, v := range vs {
		schemes[v.Scheme] = true
		k := key{v.Scheme, *v.Valid}
		if raceEnabled && (ran[k] || !*v.Valid || slowUnderRace(v.Scheme)) {
			if _, err := Identify(v.Hash); err != nil && !springRefused[v.Scheme] {
				t.Errorf("%s: Identify(%q) = %v", v.Scheme, v.Hash, err)
			}
			continue
		}
		ran[k] = true
		checkVerdict(t, h, v.Scheme, v.Password, v.Hash, *v.Valid)
		if *v.Valid && !springRefused[v.Scheme] {
			if _, err := Identify(v.Hash); err != nil {
				t.Errorf("%s: Identify(%q) = %v", v.Scheme, v.Hash, err)
			}
		}
	}
	for _, s := range []string{
		"spring:{bcrypt}", "spring:raw-bcrypt", "spring:raw-bcrypt-2b", "spring:raw-bcrypt-2y",
		"spring:{pbkdf2}-v5_5", "spring:{pbkdf2@SpringSecurity_v5_8}", "spring:{pbkdf2}-v5_8-base64",
		"spring:raw-pbkdf2-v5_5", "spring:raw-pbkdf2-v5_8", "spring:raw-pbkdf2-v5_8-base64",
		"spring:{scrypt}-v4_1", "spring:{scrypt@SpringSecurity_v5_8}", "spring:raw-scrypt-v4_1", "spring:raw-scrypt-v5_8",
		"spring:{argon2}-v5_2", "spring:{argon2@SpringSecurity_v5_8}", "spring:raw-argon2-v5_2", "spring:raw-argon2-v5_8",
		"spring:{sha256}", "spring:raw-sha256",
	} {
		if !schemes[s] {
			t.Errorf("no Spring vector for %s", s)
		}
	}
}

// TestSpringIdentify checks the names Identify gives Spring's layouts.
func TestSpringIdentify(t *testing.T) {
	want := map[string]string{
		"spring:{bcrypt}": "spring-bcrypt", "spring:raw-bcrypt": "bcrypt",
		"spring:{pbkdf2}-v5_5": "spring-pbkdf2-sha1", "spring:{pbkdf2@SpringSecurity_v5_8}": "spring-pbkdf2-sha256",
		"spring:{pbkdf2}-v5_8-base64": "spring-pbkdf2-sha256", "spring:raw-pbkdf2-v5_5": "spring-pbkdf2-sha1-or-sha256",
		"spring:raw-pbkdf2-v5_8": "spring-pbkdf2-sha256", "spring:raw-pbkdf2-v5_8-base64": "spring-pbkdf2-sha256",
		"spring:{scrypt}-v4_1": "spring-scrypt", "spring:raw-scrypt-v5_8": "spring-scrypt",
		"spring:{argon2}-v5_2": "spring-argon2", "spring:raw-argon2-v5_8": "argon2id",
		"spring:{sha256}": "spring-sha256", "spring:raw-sha256": "spring-pbkdf2-sha1-or-sha256",
		"spring:{MD5}": "spring-md5", "spring:{ldap}": "spring-ldap", "spring:raw-ldap": "ldap-ssha",
		"spring:raw-MD4": "spring-message-digest",
	}
	for _, v := range loadSpringVectors(t, "testdata/spring/spring-security-7.1.1.jsonl") {
		w, ok := want[v.Scheme]
		if !ok {
			continue
		}
		if got, _ := Identify(v.Hash); got != w {
			t.Errorf("%s: Identify(%q) = %q, want %q", v.Scheme, v.Hash, got, w)
		}
	}
}

// TestExternalVectors checks further vector files, kept outside the
// repository, named in LOGINKIT_HASH_VECTORS (a list of .jsonl files or
// directories of them, separated like PATH). Lines in the Spring shape
// ({"scheme","password","hash","valid"}) are checked against their
// verdict; lines in the shape of testdata/vectors.jsonl with their
// password and their "also", "wrong" and "refused" candidates, or, marked
// "refused_scheme", as a scheme refused by design.
func TestExternalVectors(t *testing.T) {
	list := os.Getenv("LOGINKIT_HASH_VECTORS")
	if list == "" {
		t.Skip("LOGINKIT_HASH_VECTORS is not set: no external vectors to check")
	}
	h := Default()
	n := 0
	for _, p := range filepath.SplitList(list) {
		files := []string{p}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.jsonl"))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var v struct {
					springVector
					Lib           string   `json:"lib"`
					Wrong         string   `json:"wrong"`
					Also          []string `json:"also"`
					Refused       []string `json:"refused"`
					RefusedScheme bool     `json:"refused_scheme"`
				}
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("%s: bad line %q: %v", f, line, err)
				}
				n++
				if v.Valid != nil {
					checkVerdict(t, h, v.Scheme, v.Password, v.Hash, *v.Valid)
					continue
				}
				if v.RefusedScheme {
					checkRefusedScheme(t, h, vector{Scheme: v.Scheme, Password: v.Password, Wrong: v.Wrong, Hash: v.Hash})
					continue
				}
				name := v.Lib + "/" + v.Scheme
				checkVerdict(t, h, name, v.Password, v.Hash, true)
				for _, a := range v.Also {
					checkVerdict(t, h, name, a, v.Hash, true)
				}
				checkVerdict(t, h, name, v.Wrong, v.Hash, false)
				for _, r := range v.Refused {
					checkVerdict(t, h, name, r, v.Hash, false)
				}
			}
		}
	}
	if n == 0 {
		t.Fatalf("LOGINKIT_HASH_VECTORS=%q holds no vectors", list)
	}
	t.Logf("%d external vectors checked", n)
}
