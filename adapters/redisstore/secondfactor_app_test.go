package redisstore_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/twofactor"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
)

// tfServer is one application server with second factors on Redis, and
// routes for enrolling and for the code step.
func tfServer(tb testing.TB, rdb redis.UniversalClient, prefix string, now func() time.Time) http.Handler {
	tb.Helper()
	m, err := redisBuilder(rdb, prefix).Hasher(testHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Logger(quiet).Clock(now).
		SecondFactor(redisstore.NewSecondFactors(rdb, redisstore.WithPrefix(prefix)), loginkit.SecondFactorOptions{
			Key: bytes.Repeat([]byte{1}, loginkit.SecondFactorKeySize), Issuer: "redisstore test", MaxAttempts: 100,
		}).Build()
	if err != nil {
		tb.Fatal(err)
	}
	tf, err := twofactor.New(m)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		switch {
		case errors.Is(err, loginkit.ErrSecondFactorRequired):
			w.WriteHeader(http.StatusAccepted)
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.Handle("POST /enrol", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := r.FormValue("code"); code != "" {
			codes, err := tf.ConfirmTOTP(w, r, code)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, strings.Join(codes, " "))
			return
		}
		e, err := tf.BeginTOTP(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, e.Secret)
	})))
	verify := func(f func(http.ResponseWriter, *http.Request, string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r, r.FormValue("code")); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	mux.HandleFunc("POST /totp", verify(tf.VerifyTOTP))
	mux.HandleFunc("POST /recovery", verify(tf.UseRecoveryCode))
	mux.Handle("GET /me", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = io.WriteString(w, u.ID)
	})))
	return m.Middleware(mux)
}

// TestSecondFactorTwoServers runs two-factor login on two application
// servers sharing one Redis: a code, and a recovery code, sent at once
// to both servers by 20 pending logins is accepted exactly once.
func TestSecondFactorTwoServers(t *testing.T) {
	e1, e2 := newEnv(t), newEnv(t)
	p := e1.prefix(t)
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func() { mu.Lock(); clock = clock.Add(30 * time.Second); mu.Unlock() }
	servers := []http.Handler{tfServer(t, e1.rdb, p, now), tfServer(t, e2.rdb, p, now)}

	ann := newMember("ann@example.com")
	reg, err := redisBuilder(e1.rdb, p).Hasher(testHasher{}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(t.Context(), ann, "pw-ann-123"); err != nil {
		t.Fatal(err)
	}
	login := func(b *browser, h http.Handler) {
		t.Helper()
		if res := b.do(h, "POST", "/login", url.Values{"login": {"ann@example.com"}, "password": {"pw-ann-123"}}); res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusNoContent {
			t.Fatalf("login: %d", res.StatusCode)
		}
	}
	b := newBrowser()
	login(b, servers[0])
	res := b.do(servers[0], "POST", "/enrol", url.Values{})
	sb, _ := io.ReadAll(res.Body)
	secret := string(sb)
	code := func() string { c, _ := totp.GenerateCode(secret, now()); return c }
	res = b.do(servers[1], "POST", "/enrol", url.Values{"code": {code()}}) // enrolment lives in the shared session
	cb, _ := io.ReadAll(res.Body)
	codes := strings.Fields(string(cb))
	if res.StatusCode != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d %q", res.StatusCode, cb)
	}

	for _, c := range []struct{ path, code string }{{"/totp", ""}, {"/recovery", codes[0]}} {
		advance()
		if c.code == "" {
			c.code = code()
		}
		const n = 20
		bs := make([]*browser, n)
		for i := range bs {
			bs[i] = newBrowser()
			login(bs[i], servers[i%2])
			if st := bs[i].do(servers[i%2], "GET", "/me", nil).StatusCode; st != http.StatusUnauthorized {
				t.Fatalf("a pending login reached /me: %d", st)
			}
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, b := range bs {
			wg.Go(func() {
				<-start
				if b.do(servers[i%2], "POST", c.path, url.Values{"code": {c.code}}).StatusCode == http.StatusNoContent {
					ok.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%s: %d concurrent uses of one code on two servers: %d accepted, want exactly 1", c.path, n, ok.Load())
		}
	}
}
