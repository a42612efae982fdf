package cookiestore_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// The manager calls Seal and Open itself when a Store is passed to the
// builder's Sessions; this shows what they do.
func Example() {
	key := cookiestore.GenerateKey() // in production: 32 secret bytes from configuration
	store, err := cookiestore.New(key)
	if err != nil {
		panic(err)
	}
	now := time.Now().UTC()
	value, err := store.Seal(&loginkit.Session{
		UserID:            "ann",
		CreatedAt:         now,
		ExpiresAt:         now.Add(2 * time.Hour),
		AbsoluteExpiresAt: now.Add(24 * time.Hour),
		Fresh:             true,
		Values:            map[string]string{"lang": "fr"},
	})
	if err != nil {
		panic(err)
	}
	s, err := store.Open(value)
	fmt.Println(s.UserID, s.Fresh, s.Values["lang"], err)

	// A value changed in any way does not open.
	forged := strings.Replace(value, value[10:11], "A", 1)
	if forged == value {
		forged = strings.Replace(value, value[10:11], "B", 1)
	}
	_, err = store.Open(forged)
	fmt.Println(errors.Is(err, loginkit.ErrNotFound))
	// Output:
	// ann true fr <nil>
	// true
}

// Rotating keys: the new key seals, the old one still opens cookies sealed
// before the rotation.
func ExampleWithOldKeys() {
	oldKey, newKey := cookiestore.GenerateKey(), cookiestore.GenerateKey()
	before, _ := cookiestore.New(oldKey)
	value, _ := before.Seal(&loginkit.Session{UserID: "ann", ExpiresAt: time.Now().Add(time.Hour)})

	after, err := cookiestore.New(newKey, cookiestore.WithOldKeys(oldKey))
	if err != nil {
		panic(err)
	}
	s, err := after.Open(value)
	fmt.Println(s.UserID, err)
	// Output: ann <nil>
}

// Sessions in a cookie must stay small: Seal refuses one that would not
// fit.
func ExampleErrTooLarge() {
	store, _ := cookiestore.New(cookiestore.GenerateKey())
	_, err := store.Seal(&loginkit.Session{
		UserID:    "ann",
		ExpiresAt: time.Now().Add(time.Hour),
		Values:    map[string]string{"cart": strings.Repeat("item,", 1000)},
	})
	fmt.Println(errors.Is(err, cookiestore.ErrTooLarge), errors.Is(err, loginkit.ErrInvalid))
	// Output: true true
}
