package loginkit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/internal/softauthn"
	"github.com/loginkit/loginkit/passkey"
)

// The passkey tests run real WebAuthn ceremonies through the manager and
// the go-webauthn library: softAuthenticator is a small software
// authenticator (an ECDSA P-256 key, "none" attestation) that builds the
// authenticator data and client data a browser would send, and signs
// them. It is a test fixture, not a stand-in for the library: every check
// on the responses is the library's and the manager's own.

const (
	pkRPID   = softauthn.RPID
	pkOrigin = softauthn.Origin
	flagBE   = softauthn.FlagBE
	flagBS   = softauthn.FlagBS
)

type softAuthenticator = softauthn.Authenticator

func newSoftAuthenticator(t softauthn.Fataler) *softAuthenticator { return softauthn.New(t) }

var b64 = base64.RawURLEncoding

// passkeysOf is the passkey service of m, built with Builder.Passkeys.
func passkeysOf[U loginkit.User](m *loginkit.Manager[U]) *passkey.Service[U] {
	s, err := passkey.New(m)
	if err != nil {
		panic(err)
	}
	return s
}

// pkApp is the two-factor test app with passkeys on.
type pkApp struct {
	*tfApp
	passkeys  *memstore.Passkeys
	mu        sync.Mutex
	regressed []uint32
}

func newPKApp(t *testing.T, opts ...appOption) *pkApp {
	t.Helper()
	return newPKAppWith(t, nil, opts...)
}

// newPKAppWith is newPKApp with the manager's passkey store wrapped by
// wrap (when not nil) around the memstore one.
func newPKAppWith(t *testing.T, wrap func(loginkit.PasskeyStore) loginkit.PasskeyStore, opts ...appOption) *pkApp {
	t.Helper()
	pa := &pkApp{passkeys: memstore.NewPasskeys()}
	var store loginkit.PasskeyStore = pa.passkeys
	if wrap != nil {
		store = wrap(store)
	}
	ev := &tfEvents{}
	pa.tfApp = newTFApp(t, loginkit.SecondFactorOptions{}, func(b *loginkit.Builder[*user]) {
		b.Passkeys(store, loginkit.PasskeyOptions{RPID: pkRPID, RPDisplayName: "Login Example", Origins: []string{pkOrigin}})
		h := ev.hooks()
		h.PasskeySignCountRegressed = func(_ *http.Request, _ *loginkit.Passkey, got uint32) {
			pa.mu.Lock()
			pa.regressed = append(pa.regressed, got)
			pa.mu.Unlock()
		}
		b.Hooks(h)
	}, func(b *loginkit.Builder[*user]) {
		for _, o := range opts {
			o(b)
		}
	})
	pa.events = ev // the hooks set above replace newTFApp's
	pa.handler = pa.m.Middleware(pa.pkRoutes())
	return pa
}

func pkStatus(err error) int {
	switch {
	case errors.Is(err, loginkit.ErrPasskeyRefused):
		return http.StatusBadRequest
	case errors.Is(err, loginkit.ErrLastCredential):
		return http.StatusConflict
	case errors.Is(err, loginkit.ErrNeedsRefresh):
		return http.StatusForbidden
	case errors.Is(err, loginkit.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, loginkit.ErrLocked):
		return http.StatusTooManyRequests
	}
	return http.StatusUnauthorized
}

func (a *pkApp) pkRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", a.tfApp.routes())
	send := func(w http.ResponseWriter, doc []byte, err error) {
		if err != nil {
			http.Error(w, err.Error(), pkStatus(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}
	done := func(w http.ResponseWriter, err error) {
		if err != nil {
			http.Error(w, err.Error(), pkStatus(err))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
	mux.HandleFunc("POST /passkeys/register/begin", func(w http.ResponseWriter, r *http.Request) {
		doc, err := passkeysOf(a.m).BeginRegistration(w, r)
		send(w, doc, err)
	})
	mux.HandleFunc("POST /passkeys/register/finish", func(w http.ResponseWriter, r *http.Request) {
		_, err := passkeysOf(a.m).FinishRegistration(w, r, r.URL.Query().Get("name"))
		done(w, err)
	})
	mux.HandleFunc("POST /passkeys/login/begin", func(w http.ResponseWriter, r *http.Request) {
		doc, err := passkeysOf(a.m).BeginLogin(w, r)
		send(w, doc, err)
	})
	mux.HandleFunc("POST /passkeys/login/finish", func(w http.ResponseWriter, r *http.Request) {
		_, err := passkeysOf(a.m).FinishLogin(w, r, loginkit.LoginOptions{})
		done(w, err)
	})
	mux.HandleFunc("POST /passkeys/2fa/begin", func(w http.ResponseWriter, r *http.Request) {
		doc, err := passkeysOf(a.m).BeginSecondFactor(w, r)
		send(w, doc, err)
	})
	mux.HandleFunc("POST /passkeys/2fa/finish", func(w http.ResponseWriter, r *http.Request) {
		done(w, passkeysOf(a.m).VerifySecondFactor(w, r))
	})
	mux.HandleFunc("POST /passkeys/delete", func(w http.ResponseWriter, r *http.Request) {
		id, _ := b64.DecodeString(r.URL.Query().Get("id"))
		done(w, passkeysOf(a.m).Delete(w, r, id))
	})
	mux.HandleFunc("GET /passkeys", func(w http.ResponseWriter, r *http.Request) {
		list, err := passkeysOf(a.m).List(r)
		if err != nil {
			http.Error(w, err.Error(), pkStatus(err))
			return
		}
		for _, p := range list {
			_, _ = w.Write([]byte(p.Name + ";"))
		}
	})
	return mux
}

// post sends a JSON body (or none) and returns the status and body.
func post(b *browser, path string, doc []byte) (int, []byte) {
	b.t.Helper()
	r := b.request("POST", path, "")
	r.Body = io.NopCloser(bytes.NewReader(doc))
	r.ContentLength = int64(len(doc))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, r)
	res := rec.Result()
	b.store(res)
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

func mustPost(b *browser, path string, doc []byte) []byte {
	b.t.Helper()
	code, out := post(b, path, doc)
	if code != http.StatusOK {
		b.t.Fatalf("POST %s: status %d, body %q", path, code, out)
	}
	return out
}

// enrol registers a new software authenticator for the browser's
// (freshly logged in) user.
func (a *pkApp) enrol(b *browser, name string) *softAuthenticator {
	a.t.Helper()
	sa := newSoftAuthenticator(a.t)
	opts := mustPost(b, "/passkeys/register/begin", nil)
	mustPost(b, "/passkeys/register/finish?name="+name, sa.Create(a.t, opts))
	return sa
}

// annWithKey registers ann (password pw), logs her in, fresh, in a new
// browser and enrols a passkey called name: it returns the browser and the
// passkey's authenticator.
func (a *pkApp) annWithKey(name string) (*browser, *softAuthenticator) {
	a.t.Helper()
	a.register("ann", "pw")
	b := a.browser()
	b.mustLogin("ann", "pw", false)
	return b, a.enrol(b, name)
}

// concurrentPosts sends n POSTs of doc at once, the i-th to path(i) from
// its own clone of b, and returns their statuses.
func concurrentPosts(b *browser, n int, path func(i int) string, doc []byte) []int {
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		c := b.clone()
		wg.Go(func() { codes[i], _ = post(c, path(i), doc) })
	}
	wg.Wait()
	return codes
}

// countStatus returns how many of codes are want.
func countStatus(codes []int, want int) int {
	n := 0
	for _, c := range codes {
		if c == want {
			n++
		}
	}
	return n
}

// passkeyLogin signs in with sa, returning the finish status.
func passkeyLogin(t *testing.T, b *browser, sa *softAuthenticator) (int, []byte) {
	t.Helper()
	opts := mustPost(b, "/passkeys/login/begin", nil)
	return post(b, "/passkeys/login/finish", sa.Get(t, opts))
}

func TestPasskeyRegisterThenPasswordlessLogin(t *testing.T) {
	a := newPKApp(t)
	b, sa := a.annWithKey("Laptop")
	if got := body(b.get("/passkeys")); got != "Laptop;" {
		t.Fatalf("GET /passkeys = %q, want the new passkey", got)
	}
	ps, _ := a.passkeys.ListPasskeys(t.Context(), a.userNamed("ann").ID)
	if len(ps) != 1 || ps[0].Name != "Laptop" || !bytes.Equal(ps[0].CredentialID, sa.ID) || strings.Join(ps[0].Transports, ",") != "internal,hybrid" || ps[0].CreatedAt.IsZero() {
		t.Fatalf("stored passkeys %+v", ps)
	}

	// A new browser, no username: the passkey alone logs ann in, fresh.
	nb := a.browser()
	sa.Count = 1
	if code, out := passkeyLogin(t, nb, sa); code != http.StatusOK {
		t.Fatalf("passkey login: %d %s", code, out)
	}
	wantWho(t, nb, "user:ann:fresh")
	ps, _ = a.passkeys.ListPasskeys(t.Context(), a.userNamed("ann").ID)
	if ps[0].SignCount != 1 || ps[0].LastUsedAt.IsZero() {
		t.Errorf("after sign-in: SignCount %d, LastUsedAt %v; want 1 and set", ps[0].SignCount, ps[0].LastUsedAt)
	}
}

func TestPasskeyRegistrationNeedsLogin(t *testing.T) {
	a := newPKApp(t)
	b := a.browser()
	if code, _ := post(b, "/passkeys/register/begin", nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous BeginPasskeyRegistration: status %d, want 401", code)
	}
}

func TestPasskeyAssertionReplayRefused(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")
	nb := a.browser()
	opts := mustPost(nb, "/passkeys/login/begin", nil)
	sa.Count = 1
	resp := sa.Get(t, opts)
	mustPost(nb, "/passkeys/login/finish", resp)
	// The same response again, from the same browser, even with a new
	// challenge asked for: the challenge it answers is used up.
	mustPost(nb, "/passkeys/login/begin", nil)
	if code, _ := post(nb, "/passkeys/login/finish", resp); code != http.StatusBadRequest {
		t.Errorf("replayed assertion: status %d, want 400", code)
	}
	// A new assertion with a counter that has not moved, to a fresh
	// challenge, is not a replay of the challenge but is refused by the
	// counter rule.
	if code, _ := passkeyLogin(t, nb, sa); code != http.StatusBadRequest {
		t.Errorf("assertion with an unchanged counter: status %d, want 400", code)
	}
}

func TestPasskeyAssertionForAnotherSessionRefused(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")

	victim, attacker := a.browser(), a.browser()
	victim.addr, attacker.addr = "192.0.2.20:1", "198.51.100.7:1"
	opts := mustPost(victim, "/passkeys/login/begin", nil)
	mustPost(attacker, "/passkeys/login/begin", nil) // the attacker has a challenge cookie of its own
	sa.Count = 1
	resp := sa.Get(t, opts) // answers the victim's challenge
	if code, out := post(attacker, "/passkeys/login/finish", resp); code != http.StatusBadRequest {
		t.Fatalf("assertion for another browser's challenge: status %d %s, want 400", code, out)
	}
	wantWho(t, attacker, "anonymous")
	// Without any challenge cookie at all.
	if code, _ := post(a.browser(), "/passkeys/login/finish", resp); code != http.StatusBadRequest {
		t.Errorf("assertion from a browser that asked for no challenge: status %d, want 400", code)
	}
	// The victim's own challenge was not used up by the attempts.
	mustPost(victim, "/passkeys/login/finish", resp)
	wantWho(t, victim, "user:ann:fresh")
}

func TestPasskeyChallengeExpires(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")
	nb := a.browser()
	opts := mustPost(nb, "/passkeys/login/begin", nil)
	a.clock.Advance(loginkit.DefaultPasskeyChallengeFor + time.Second)
	sa.Count = 1
	if code, _ := post(nb, "/passkeys/login/finish", sa.Get(t, opts)); code != http.StatusBadRequest {
		t.Errorf("assertion after the challenge expired: status %d, want 400", code)
	}
	wantWho(t, nb, "anonymous")
}

func TestPasskeyConcurrentAssertionsOneWins(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")
	nb := a.browser()
	opts := mustPost(nb, "/passkeys/login/begin", nil)
	sa.Count = 1
	resp := sa.Get(t, opts)
	const n = 20
	codes := concurrentPosts(nb, n, func(int) string { return "/passkeys/login/finish" }, resp)
	ok := countStatus(codes, http.StatusOK)
	if ok != 1 {
		t.Errorf("%d concurrent uses of one assertion: %d succeeded, want exactly 1 (%v)", n, ok, codes)
	}
}

func TestPasskeySignCountRegressionRefused(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")
	sa.Count = 5
	if code, out := passkeyLogin(t, a.browser(), sa); code != http.StatusOK {
		t.Fatalf("login with counter 5: %d %s", code, out)
	}
	// A clone with an older counter.
	sa.Count = 3
	nb := a.browser()
	if code, _ := passkeyLogin(t, nb, sa); code != http.StatusBadRequest {
		t.Fatalf("login with counter 3 after 5: status %d, want 400", code)
	}
	wantWho(t, nb, "anonymous")
	a.mu.Lock()
	got := append([]uint32(nil), a.regressed...)
	a.mu.Unlock()
	if len(got) != 1 || got[0] != 3 {
		t.Errorf("PasskeySignCountRegressed hook calls %v, want one with 3", got)
	}
	// An authenticator reporting 0 (a synced passkey) is accepted.
	sa.Count = 0
	if code, out := passkeyLogin(t, a.browser(), sa); code != http.StatusOK {
		t.Errorf("login with counter 0: %d %s, want success (synced passkeys report 0)", code, out)
	}
	if code, out := passkeyLogin(t, a.browser(), sa); code != http.StatusOK {
		t.Errorf("second login with counter 0: %d %s, want success", code, out)
	}
}

func TestPasskeyOtherAuthenticatorRefused(t *testing.T) {
	a := newPKApp(t)
	_, sa := a.annWithKey("Key")
	// Another authenticator claiming ann's credential ID and user handle,
	// with its own key.
	other := newSoftAuthenticator(t)
	other.ID, other.Handle, other.Count = sa.ID, sa.Handle, 10
	if code, _ := passkeyLogin(t, a.browser(), other); code != http.StatusBadRequest {
		t.Errorf("assertion signed by another key: status %d, want 400", code)
	}
	// And one with a credential that was never registered.
	stranger := newSoftAuthenticator(t)
	stranger.Handle = sa.Handle
	if code, _ := passkeyLogin(t, a.browser(), stranger); code != http.StatusBadRequest {
		t.Errorf("assertion of an unregistered credential: status %d, want 400", code)
	}
	// A wrong origin.
	sa.Count, sa.Origin = 1, "https://evil.example"
	if code, _ := passkeyLogin(t, a.browser(), sa); code != http.StatusBadRequest {
		t.Errorf("assertion from another origin: status %d, want 400", code)
	}
}

func TestPasskeyLastCredentialKept(t *testing.T) {
	a := newPKApp(t)
	b, k1 := a.annWithKey("one")
	k2 := a.enrol(b, "two")
	// Ann has a password: she may remove both, the last one too, once
	// she has a passwordless account no longer... first take her
	// password away.
	u := a.userNamed("ann")
	u.PasswordHash = ""
	if err := a.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	mustPost(b, "/passkeys/delete?id="+b64.EncodeToString(k1.ID), nil)
	if code, _ := post(b, "/passkeys/delete?id="+b64.EncodeToString(k2.ID), nil); code != http.StatusConflict {
		t.Fatalf("deleting the last passkey of a user without a password: status %d, want 409", code)
	}
	if got := body(b.get("/passkeys")); got != "two;" {
		t.Errorf("passkeys after the refused delete: %q, want two;", got)
	}
	// With a password, the last passkey can go.
	c := newPKApp(t)
	c.register("bob", "pw")
	cb := c.browser()
	cb.mustLogin("bob", "pw", false)
	k := c.enrol(cb, "only")
	mustPost(cb, "/passkeys/delete?id="+b64.EncodeToString(k.ID), nil)
	if got := body(cb.get("/passkeys")); got != "" {
		t.Errorf("passkeys after deleting bob's only one: %q, want none", got)
	}
}

func TestPasskeyAsSecondFactor(t *testing.T) {
	a := newPKApp(t)
	a.register("ann", "pw")
	a.register("bob", "pw")
	b := a.browser()
	b.mustLogin("ann", "pw", false)
	sa := a.enrol(b, "Key")
	bb := a.browser()
	bb.mustLogin("bob", "pw", false)
	bobKey := a.enrol(bb, "Bob's")

	// The password now leads to the pending state.
	nb := a.browser()
	if res := nb.login("ann", "pw", false); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/2fa" {
		t.Fatalf("password login of a user with a passkey: %d → %s, want the second-factor page", res.StatusCode, res.Header.Get("Location"))
	}
	wantWho(t, nb, "anonymous")
	opts := mustPost(nb, "/passkeys/2fa/begin", nil)
	// Bob's passkey does not complete ann's login.
	bobKey.Count = 1
	if code, _ := post(nb, "/passkeys/2fa/finish", bobKey.Get(t, opts)); code != http.StatusBadRequest {
		t.Fatalf("another user's passkey as ann's second factor: status %d, want 400", code)
	}
	wantWho(t, nb, "anonymous")
	opts = mustPost(nb, "/passkeys/2fa/begin", nil)
	sa.Count = 1
	mustPost(nb, "/passkeys/2fa/finish", sa.Get(t, opts))
	wantWho(t, nb, "user:ann:fresh")
	if k := a.events.kinds; len(k) == 0 || k[len(k)-1] != loginkit.FactorPasskey {
		t.Errorf("SecondFactorSucceeded kinds %v, want the last to be %q", k, loginkit.FactorPasskey)
	}
}

// TestPasskeyReplayOfSyncedPasskeyRefused replays an assertion of a
// passkey whose counter is always 0 (a synced passkey): the counter rule
// cannot catch it, so the single-use challenge must, sequentially and
// with 20 concurrent replays.
func TestPasskeyReplayOfSyncedPasskeyRefused(t *testing.T) {
	a := newPKApp(t)
	b, sa := a.annWithKey("Synced")
	sa.Flags = flagBE | flagBS
	// Re-register as backup eligible: the flag may not change later.
	mustPost(b, "/passkeys/delete?id="+b64.EncodeToString(sa.ID), nil)
	sa = newSoftAuthenticator(t)
	sa.Flags = flagBE | flagBS
	opts := mustPost(b, "/passkeys/register/begin", nil)
	mustPost(b, "/passkeys/register/finish?name=Synced", sa.Create(t, opts))

	nb := a.browser()
	opts = mustPost(nb, "/passkeys/login/begin", nil)
	resp := sa.Get(t, opts) // counter 0
	mustPost(nb, "/passkeys/login/finish", resp)
	if code, _ := post(nb, "/passkeys/login/finish", resp); code != http.StatusBadRequest {
		t.Errorf("replayed assertion of a synced passkey: status %d, want 400", code)
	}

	rb := a.browser()
	opts = mustPost(rb, "/passkeys/login/begin", nil)
	resp = sa.Get(t, opts)
	const n = 20
	codes := concurrentPosts(rb, n, func(int) string { return "/passkeys/login/finish" }, resp)
	ok := countStatus(codes, http.StatusOK)
	if ok != 1 {
		t.Errorf("%d concurrent uses of one counter-0 assertion: %d succeeded, want exactly 1 (%v)", n, ok, codes)
	}
	ps, _ := a.passkeys.ListPasskeys(t.Context(), a.userNamed("ann").ID)
	if len(ps) != 1 || !ps[0].BackupEligible || !ps[0].BackedUp {
		t.Errorf("stored passkeys %+v, want one backed-up passkey", ps)
	}
}

// TestPasskeyManagementNeedsFreshLogin checks that registering, listing
// and deleting passkeys need a fresh session: a session restored from
// remember-me gets ErrNeedsRefresh.
func TestPasskeyManagementNeedsFreshLogin(t *testing.T) {
	a := newPKApp(t, func(b *loginkit.Builder[*user]) { b.Remember(loginkit.RememberOptions{}) })
	a.register("ann", "pw")
	b := a.browser()
	b.mustLogin("ann", "pw", false)
	sa := a.enrol(b, "Key")
	// Log in again with remember-me, now through the passkey step.
	b.do("POST", "/logout", "")
	if res := b.login("ann", "pw", true); res.Header.Get("Location") != "/2fa" {
		t.Fatalf("password login: → %q, want the second-factor page", res.Header.Get("Location"))
	}
	opts := mustPost(b, "/passkeys/2fa/begin", nil)
	sa.Count = 1
	mustPost(b, "/passkeys/2fa/finish", sa.Get(t, opts))
	b.restart() // the session cookie is gone; remember-me restores a stale session
	wantWho(t, b, "user:ann:stale")
	if code, _ := post(b, "/passkeys/register/begin", nil); code != http.StatusForbidden {
		t.Errorf("BeginPasskeyRegistration in a stale session: status %d, want 403", code)
	}
	if res := b.get("/passkeys"); res.StatusCode != http.StatusForbidden {
		t.Errorf("ListPasskeys in a stale session: status %d, want 403", res.StatusCode)
	}
	if code, _ := post(b, "/passkeys/delete?id="+b64.EncodeToString(sa.ID), nil); code != http.StatusForbidden {
		t.Errorf("DeletePasskey in a stale session: status %d, want 403", code)
	}
	if ps, _ := a.passkeys.ListPasskeys(t.Context(), a.userNamed("ann").ID); len(ps) != 1 {
		t.Errorf("%d passkeys after the refused delete, want 1", len(ps))
	}
	// A passkey sign-in makes the session fresh again.
	sa.Count = 2
	if code, out := passkeyLogin(t, b, sa); code != http.StatusOK {
		t.Fatalf("passkey login: %d %s", code, out)
	}
	wantWho(t, b, "user:ann:fresh")
	if res := b.get("/passkeys"); res.StatusCode != http.StatusOK {
		t.Errorf("ListPasskeys after a passkey sign-in: status %d, want 200", res.StatusCode)
	}
}

// FuzzFinishPasskeyLogin feeds arbitrary bodies to a passwordless
// sign-in that has a challenge outstanding: none may log anyone in, and
// none may crash the handler.
func FuzzFinishPasskeyLogin(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":""}}`))
	f.Add([]byte(`{"id":"","rawId":"","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSIsIm9yaWdpbiI6Imh0dHBzOi8vbG9naW4uZXhhbXBsZSJ9"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a := newPKApp(t)
		a.register("ann", "pw")
		b := a.browser()
		opts := mustPost(b, "/passkeys/login/begin", nil)
		// Half the time, answer the real challenge with the fuzzed body
		// spliced in as the signature, so that parsing goes deeper.
		if len(body) > 0 && body[0]&1 == 1 {
			ch, _ := softauthn.Options(t, opts)
			sa := newSoftAuthenticator(t)
			var doc map[string]any
			_ = json.Unmarshal(sa.Assert(t, ch), &doc)
			doc["response"].(map[string]any)["signature"] = b64.EncodeToString(body)
			body, _ = json.Marshal(doc)
		}
		if code, _ := post(b, "/passkeys/login/finish", body); code == http.StatusOK {
			t.Fatalf("body %q signed someone in", body)
		}
		if got := b.whoami(); got != "anonymous" {
			t.Fatalf("body %q: whoami = %q", body, got)
		}
	})
}

// slowListPasskeys answers ListPasskeys a millisecond late.
type slowListPasskeys struct{ loginkit.PasskeyStore }

func (s slowListPasskeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	l, err := s.PasskeyStore.ListPasskeys(ctx, userID)
	time.Sleep(time.Millisecond)
	return l, err
}

// TestPasskeyConcurrentDeletesKeepOne deletes a passwordless user's
// passkeys from 20 concurrent requests: one must survive.
func TestPasskeyConcurrentDeletesKeepOne(t *testing.T) {
	// A store with a little latency, as a database has, so that
	// concurrent requests interleave between the check and the delete.
	a := newPKAppWith(t, func(s loginkit.PasskeyStore) loginkit.PasskeyStore { return slowListPasskeys{s} })
	a.register("ann", "pw")
	b := a.browser()
	b.mustLogin("ann", "pw", false)
	var keys []*softAuthenticator
	for i := range 4 {
		keys = append(keys, a.enrol(b, "key"+string(rune('a'+i))))
	}
	u := a.userNamed("ann")
	u.PasswordHash = ""
	if err := a.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	const n = 20
	codes := concurrentPosts(b, n, func(i int) string {
		return "/passkeys/delete?id=" + b64.EncodeToString(keys[i%len(keys)].ID)
	}, nil)
	ps, _ := a.passkeys.ListPasskeys(t.Context(), u.ID)
	if len(ps) != 1 {
		t.Fatalf("after %d concurrent deletes: %d passkeys left, want exactly 1 (statuses %v)", n, len(ps), codes)
	}
	ok := countStatus(codes, http.StatusOK)
	if ok != len(keys)-1 {
		t.Errorf("%d deletes succeeded, want %d (statuses %v)", ok, len(keys)-1, codes)
	}
}

// TestPasskeyFirstKeyEndsLoginsMadeWithoutIt: a user's first passkey
// turns the second factor on (the password then leads to the pending
// step), so the logins and remember cookies made before it, with the
// password alone, end; the registering session stays. A second passkey
// changes nothing for the other logins.
func TestPasskeyFirstKeyEndsLoginsMadeWithoutIt(t *testing.T) {
	a := newPKApp(t)
	a.register("ann", "pw")
	old := a.browser()
	old.mustLogin("ann", "pw", true)
	stolen := old.clone() // a copy of the jar taken before the passkey
	b := a.browser()
	b.mustLogin("ann", "pw", false)
	sa := a.enrol(b, "Key")
	wantWho(t, b, "user:ann:fresh")
	wantWho(t, old, "anonymous")
	stolen.restart() // only the remember cookie is left
	wantWho(t, stolen, "anonymous")

	// A login that passed the passkey survives a second key.
	nb := a.browser()
	if res := nb.login("ann", "pw", false); res.Header.Get("Location") != "/2fa" {
		t.Fatalf("password login: → %q, want the second-factor page", res.Header.Get("Location"))
	}
	opts := mustPost(nb, "/passkeys/2fa/begin", nil)
	sa.Count = 1
	mustPost(nb, "/passkeys/2fa/finish", sa.Get(t, opts))
	wantWho(t, nb, "user:ann:fresh")
	a.enrol(b, "Second")
	wantWho(t, nb, "user:ann:fresh")
	wantWho(t, b, "user:ann:fresh")
}
