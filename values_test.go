package loginkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

func TestSetValueRefusesBadKeysAndValues(t *testing.T) {
	a := newApp(t)
	errs := map[string]error{}
	b := withRoute(a, "POST /set", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs[r.FormValue("case")] = a.m.SetValue(w, r, r.FormValue("k"), r.FormValue("v"))
	}))
	cases := map[string]struct {
		k, v string
		want error
	}{
		"empty key":    {"", "x", loginkit.ErrInvalid},
		"reserved key": {"loginkit.forced", "1", loginkit.ErrInvalid},
		"NUL in value": {"k", "a\x00b", loginkit.ErrInvalid},
		"bad UTF-8":    {"k", "\xff", loginkit.ErrInvalid},
		"too large":    {"k", strings.Repeat("v", loginkit.MaxValueBytes), loginkit.ErrValueTooLarge},
	}
	for name, c := range cases {
		res := b.do("POST", "/set", "case="+strings.ReplaceAll(name, " ", "+")+"&k="+c.k+"&v="+url.QueryEscape(c.v))
		if !isErr(errs[name], c.want) {
			t.Errorf("%s: %v, want %v", name, errs[name], c.want)
		}
		if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: a refused value set cookies %v", name, sc)
		}
	}
	if anon, err := a.sessions.ListByUser(context.Background(), ""); err != nil || len(anon) != 0 {
		t.Fatalf("refused values created sessions: %v %v", anon, err)
	}
}

func TestSetValueWithoutMiddlewareIsConfigError(t *testing.T) {
	a := newApp(t)
	r := httptest.NewRequest("POST", "/", nil)
	if err := a.m.SetValue(httptest.NewRecorder(), r, "k", "v"); !isErr(err, loginkit.ErrConfig) {
		t.Fatalf("SetValue without Middleware = %v, want ErrConfig", err)
	}
	if _, ok := a.m.Value(r, "k"); ok {
		t.Fatal("Value without Middleware found a value")
	}
}

func TestPopLastValueEndsAnonymousSession(t *testing.T) {
	a := newApp(t)
	b := withRoute(a, "POST /v", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("pop") != "" {
			v, _ := a.m.PopValue(w, r, "flash")
			_, _ = w.Write([]byte(v))
			return
		}
		_ = a.m.SetValue(w, r, "flash", "hello")
	}))
	b.do("POST", "/v", "x=1")
	if b.cookie(sessionCookie) == "" {
		t.Fatal("no anonymous session")
	}
	if got := body(b.do("POST", "/v", "pop=1")); got != "hello" {
		t.Fatalf("pop = %q", got)
	}
	if b.cookie(sessionCookie) != "" {
		t.Fatal("the emptied anonymous session's cookie was kept")
	}
}

// TestValuesRideThroughSecondFactor: values set before a login that needs
// a second factor are kept in the pending state (where SetValue and
// Value work without ending it) and reach the completed login.
func TestValuesRideThroughSecondFactor(t *testing.T) {
	ta := newTFApp(t, loginkit.SecondFactorOptions{})
	ta.register("ann", "pw-ann-123")
	b := ta.browser()
	b.h = ta.handler
	secret, _ := ta.enrol(b, "ann", "pw-ann-123")
	b.do("POST", "/logout", "")
	ta.clock.Advance(time.Minute) // the enrolment's code is used

	mux := http.NewServeMux()
	mux.Handle("/", ta.routes())
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		if err := ta.m.SetValue(w, r, r.FormValue("k"), r.FormValue("v")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		v, _ := ta.m.Value(r, r.FormValue("k"))
		_, _ = w.Write([]byte(v))
	})
	b.h = ta.m.Middleware(mux)
	b.do("POST", "/set", "k=next&v=/reports")
	if res := b.login("ann", "pw-ann-123", false); res.Header.Get("Location") != "/2fa" {
		t.Fatalf("login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	b.do("POST", "/set", "k=note&v=pending")
	if got := body(b.get("/2fa")); got != "pending:ann" {
		t.Fatalf("after SetValue in the pending state: %q, want it still pending", got)
	}
	if got := body(b.get("/get?k=next")); got != "/reports" {
		t.Fatalf("value in the pending state = %q", got)
	}
	if res := b.do("POST", "/2fa/totp", "code="+ta.code(secret, 0)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("TOTP: %d %s", res.StatusCode, body(res))
	}
	wantWho(t, b, "user:ann:fresh")
	for k, want := range map[string]string{"next": "/reports", "note": "pending"} {
		if got := body(b.get("/get?k=" + k)); got != want {
			t.Fatalf("after the second factor, %s = %q, want %q", k, got, want)
		}
	}
}
