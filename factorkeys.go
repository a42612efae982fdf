package loginkit

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// SecondFactorKeySize is the length in bytes of the keys
// SecondFactorOptions takes.
const SecondFactorKeySize = 32

// sealedFormatV1 is the first byte of a sealed TOTP secret.
const sealedFormatV1 = 1

// factorKey is one usable second-factor key: the AEAD that seals TOTP
// secrets, the HMAC key that hashes recovery codes, and a one-byte id
// that lets open pick the key.
type factorKey struct {
	id   byte
	aead cipher.AEAD
	mac  []byte
}

// errSealed reports a sealed secret that no configured key opens.
var errSealed = errors.New("loginkit: sealed second-factor secret cannot be opened (wrong key, or tampered with)")

// deriveFactorKey derives the sealing and hashing keys from a master key,
// so that the application's key is never used directly and may serve
// other purposes too (HKDF with distinct labels).
func deriveFactorKey(master []byte) (factorKey, error) {
	if len(master) != SecondFactorKeySize {
		return factorKey{}, fmt.Errorf("%w: a second-factor key is %d bytes, want %d", ErrConfig, len(master), SecondFactorKeySize)
	}
	enc, err := hkdf.Key(sha256.New, master, nil, "loginkit second factor v1 encryption", chacha20poly1305.KeySize)
	if err != nil {
		return factorKey{}, err
	}
	mac, err := hkdf.Key(sha256.New, master, nil, "loginkit second factor v1 recovery codes", 32)
	if err != nil {
		return factorKey{}, err
	}
	id, err := hkdf.Key(sha256.New, master, nil, "loginkit second factor v1 key id", 1)
	if err != nil {
		return factorKey{}, err
	}
	aead, err := chacha20poly1305.NewX(enc)
	if err != nil {
		return factorKey{}, err
	}
	return factorKey{id: id[0], aead: aead, mac: mac}, nil
}

// sealAD binds a sealed secret to its use and its user, so that a secret
// copied to another user's record (or into a session of another user)
// does not open.
func sealAD(purpose, userID string) []byte {
	ad := make([]byte, 0, 32+len(userID))
	ad = append(ad, "loginkit second factor\x00"...)
	ad = append(ad, purpose...)
	ad = append(ad, 0)
	return append(ad, userID...)
}

// seal encrypts secret under the newest key with XChaCha20-Poly1305 and
// a random nonce: format byte, key id, nonce, ciphertext and tag.
func (f *factorConfig) seal(purpose, userID string, secret []byte) []byte {
	k := &f.keys[0]
	out := make([]byte, 2+chacha20poly1305.NonceSizeX, 2+chacha20poly1305.NonceSizeX+len(secret)+chacha20poly1305.Overhead)
	out[0], out[1] = sealedFormatV1, k.id
	_, _ = rand.Read(out[2:])
	return k.aead.Seal(out, out[2:], secret, sealAD(purpose, userID))
}

// open reverses seal with whichever configured key sealed it.
func (f *factorConfig) open(purpose, userID string, sealed []byte) ([]byte, error) {
	const head = 2 + chacha20poly1305.NonceSizeX
	if len(sealed) < head+chacha20poly1305.Overhead || sealed[0] != sealedFormatV1 {
		return nil, errSealed
	}
	ad := sealAD(purpose, userID)
	for i := range f.keys {
		k := &f.keys[i]
		if k.id != sealed[1] {
			continue
		}
		if p, err := k.aead.Open(nil, sealed[2:head], sealed[head:], ad); err == nil {
			return p, nil
		}
	}
	return nil, errSealed
}

// sealString and openString carry a sealed value in a session value.
func (f *factorConfig) sealString(purpose, userID string, secret []byte) string {
	return base64.RawURLEncoding.EncodeToString(f.seal(purpose, userID, secret))
}

func (f *factorConfig) openString(purpose, userID, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errSealed
	}
	return f.open(purpose, userID, b)
}

// codeHashes returns the hash of a normalised recovery code under every
// configured key, newest first: HMAC-SHA256 over the user ID and the
// code, base64url. Codes are random (50 bits), so a keyed fast hash is
// enough; the key keeps a stolen database from being checked offline.
func (f *factorConfig) codeHashes(userID, code string) []string {
	out := make([]string, len(f.keys))
	for i := range f.keys {
		h := hmac.New(sha256.New, f.keys[i].mac)
		h.Write([]byte(userID))
		h.Write([]byte{0})
		h.Write([]byte(code))
		out[i] = base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	}
	return out
}
