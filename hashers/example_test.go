package hashers_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/hashers"
)

// A Multi hashes with its preferred scheme and verifies every supported
// format, asking for an upgrade of hashes in another scheme or cost.
func Example() {
	ctx := context.Background()
	h := hashers.Default() // Argon2id, m=19 MiB, t=2, p=1

	enc, _ := h.Hash(ctx, "correct horse battery staple")
	scheme, _ := hashers.Identify(enc)
	fmt.Println(scheme)

	rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
	fmt.Println(rehash, err)

	_, err = h.Verify(ctx, "wrong", enc)
	fmt.Println(errors.Is(err, loginkit.ErrMismatch))

	// A hash imported from a Django site verifies, and asks to be
	// upgraded to the preferred scheme on this successful login.
	django := "pbkdf2_sha256$1000$VjAa7KGinQNf1Qw33Zpzye$oSo0s5i7xP9UaCCvVJ890zNOrRLMHrE7bOz2oio75EM="
	rehash, err = h.Verify(ctx, "correct horse battery staple", django)
	fmt.Println(rehash, err)

	// A poisoned row with absurd parameters is refused without work.
	_, err = h.Verify(ctx, "x", "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")
	fmt.Println(errors.Is(err, loginkit.ErrUnsafeHashParams))
	// Output:
	// argon2id
	// false <nil>
	// true
	// true <nil>
	// true
}

// Identify names the format of a stored hash without hashing, for example
// to validate rows before an import.
func ExampleIdentify() {
	for _, enc := range []string{
		"$2y$10$joUuM6cUBwAY7O14KfAyt.QZrD2HId2SX2ayf/AeABkM4ayls/rIy",
		"pbkdf2:sha256:1000$vgy11PY8g8MGSYI6$" + "33534d8bff1a27d4545d8bd4cfb29c3bc0441c7c33534d8bff1a27d4545d8bd4",
		"not a hash",
	} {
		scheme, err := hashers.Identify(enc)
		fmt.Printf("%q %v\n", scheme, errors.Is(err, loginkit.ErrUnknownHashFormat))
	}
	// Output:
	// "bcrypt" false
	// "werkzeug-pbkdf2-sha256" false
	// "" true
}

// A cheap hasher for the tests of code that needs one.
func ExampleMust() {
	h := hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000)))
	enc, _ := h.Hash(context.Background(), "pw")
	_, err := h.Verify(context.Background(), "pw", enc)
	fmt.Println(h.Scheme(), err)
	// Output: pbkdf2-sha256 <nil>
}

// Options from configuration: New reports bad ones as an error.
func ExampleNew() {
	_, err := hashers.New(hashers.SchemeBcrypt, hashers.Cost(3))
	fmt.Println(err != nil)
	// Output: true
}

// Identify names the formats of other ecosystems, and the weak ones this
// package refuses (ErrRefusedScheme, with the reason), so that an import
// can report each row before any user logs in.
func ExampleIdentify_imports() {
	for _, enc := range []string{
		"$P$BNDy6PJPnWral/xLFG0rPWLOX8hk29.", // WordPress
		"$6$qfVhamvQCRSBhibu$b2pl1zB.4lE0.ekv1MMN5eUaSiS5qmh.UVaIwbKDaoUVCvEKUhpzSD68qBuyewRdt.gsBmHem07G7mpIysHg1/", // glibc
		"{scrypt}$e0801$sp8WOD+r/rmX2iVSy3RMpRYzYYpET7eExm+iQZAS49Xi6Y74muTYu+sQTmiBmGLLNhUfKH+9FAjIwNnWI4Yi9g==$keXEluLKm/c3r/m3RnO+NU91nqN/9HpVexgqBX3qrXY=",
		"$1$CF/QGYzL$DR0MVMpDpKuzGgHASWeFx0", // MD5-crypt
	} {
		scheme, err := hashers.Identify(enc)
		fmt.Println(scheme, errors.Is(err, hashers.ErrRefusedScheme))
	}
	// Output:
	// phpass false
	// sha512-crypt false
	// spring-scrypt false
	// md5-crypt true
}
