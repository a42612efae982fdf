package cookiestore

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// Keys whose derived key ids collide are all tried: the id only narrows
// the search.
func TestKeyIDCollision(t *testing.T) {
	idOf := func(k []byte) byte {
		kk, err := deriveKey(k, DefaultPurpose)
		if err != nil {
			t.Fatal(err)
		}
		return kk.id
	}
	k1 := sha256.Sum256([]byte("key 0"))
	var k2 []byte
	for i := 1; k2 == nil; i++ {
		k := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		if idOf(k[:]) == idOf(k1[:]) {
			k2 = k[:]
		}
	}
	now := time.Now()
	sess := &loginkit.Session{UserID: "u", ExpiresAt: now.Add(time.Hour)}
	old, err := New(k1[:])
	if err != nil {
		t.Fatal(err)
	}
	v, err := old.Seal(sess)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(k2, WithOldKeys(k1[:]))
	if err != nil {
		t.Fatal(err)
	}
	if s.keys[0].id != s.keys[1].id {
		t.Fatalf("test keys do not collide: ids %d and %d", s.keys[0].id, s.keys[1].id)
	}
	if _, err := s.Open(v); err != nil {
		t.Fatalf("Open of a value sealed under an old key whose id equals the current key's: %v", err)
	}
}
