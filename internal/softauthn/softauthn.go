// Package softauthn is a software WebAuthn authenticator for the tests
// and examples of loginkit's passkeys: an ECDSA P-256 key and "none"
// attestation, building the authenticator data and client data a browser
// would send, and signing them. It is a test fixture, not a stand-in for
// the WebAuthn library: every check on its answers is the library's and
// the manager's own.
package softauthn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
)

// The relying party the authenticator answers for.
const (
	RPID   = "login.example"
	Origin = "https://login.example"
)

var b64 = base64.RawURLEncoding

// Authenticator is a software passkey authenticator: an ECDSA P-256
// key and a credential ID, answering WebAuthn options as a browser with
// a platform authenticator would.
type Authenticator struct {
	Key    *ecdsa.PrivateKey
	ID     []byte // the credential ID
	Count  uint32 // the signature counter put in the next answer
	Handle []byte // the user handle given at registration
	Flags  byte   // extra flags (backup eligible / state)
	Origin string // the origin put in the client data
}

// New returns an authenticator with a new key and credential ID.
func New(t Fataler) *Authenticator {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("%v", err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{Key: k, ID: id, Origin: Origin}
}

// Minimal CBOR: what a "none" attestation object and a COSE key need.
func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 256:
		return []byte{major<<5 | 24, byte(n)}
	default:
		return []byte{major<<5 | 25, byte(n >> 8), byte(n)}
	}
}

func cborInt(v int) []byte {
	if v >= 0 {
		return cborHead(0, v)
	}
	return cborHead(1, -1-v)
}
func cborBytes(b []byte) []byte  { return append(cborHead(2, len(b)), b...) }
func cborText(s string) []byte   { return append(cborHead(3, len(s)), s...) }
func cborMap(n int) []byte       { return cborHead(5, n) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func (a *Authenticator) coseKey() []byte {
	x := a.Key.PublicKey.X.FillBytes(make([]byte, 32))
	y := a.Key.PublicKey.Y.FillBytes(make([]byte, 32))
	return cat(cborMap(5), cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1), cborInt(-2), cborBytes(x), cborInt(-3), cborBytes(y))
}

func (a *Authenticator) authData(flags byte, withCred bool) []byte {
	rp := sha256.Sum256([]byte(RPID))
	out := append(rp[:], flags|a.Flags, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(out[33:], a.Count)
	if withCred {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.ID)))
		out = append(out, a.ID...)
		out = append(out, a.coseKey()...)
	}
	return out
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// Options reads the challenge (and user ID) of a creation or request
// options document.
func Options(t Fataler, doc []byte) (challenge string, userID []byte) {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(doc, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", doc, err)
	}
	uid, _ := b64.DecodeString(o.PublicKey.User.ID)
	return o.PublicKey.Challenge, uid
}

const (
	FlagUP = 0x01
	FlagUV = 0x04
	FlagBE = 0x08
	FlagBS = 0x10
	FlagAT = 0x40
)

// Create answers creation options as navigator.credentials.create would.
func (a *Authenticator) Create(t Fataler, opts []byte) []byte {
	t.Helper()
	ch, uid := Options(t, opts)
	a.Handle = uid
	att := cat(cborMap(3), cborText("fmt"), cborText("none"), cborText("attStmt"), cborMap(0),
		cborText("authData"), cborBytes(a.authData(FlagUP|FlagUV|FlagAT, true)))
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", ch, a.Origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
	})
	return b
}

// Get answers request options as navigator.credentials.get would, with
// the given signature counter.
func (a *Authenticator) Get(t Fataler, opts []byte) []byte {
	t.Helper()
	ch, _ := Options(t, opts)
	return a.Assert(t, ch)
}

// Assert signs an assertion of challenge, as Get does for options.
func (a *Authenticator) Assert(t Fataler, challenge string) []byte {
	t.Helper()
	ad := a.authData(FlagUP|FlagUV, false)
	cd := clientData("webauthn.get", challenge, a.Origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(slicesClone(ad), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		t.Fatalf("%v", err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.Handle),
		},
	})
	return b
}

// Fataler is what the software authenticator reports failures to: a
// *testing.T, or exampleFatal in the Example.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }
