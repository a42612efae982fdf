package loginkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
