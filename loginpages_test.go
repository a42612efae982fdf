package loginkit_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

func TestCustomNextParam(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.NextParam("return_to") })
	b := a.browser()
	res := b.get("/protected?a=1")
	if loc := res.Header.Get("Location"); loc != "/login?return_to=%2Fprotected%3Fa%3D1" {
		t.Fatalf("Location = %q", loc)
	}
	r := httptest.NewRequest("GET", "/login?return_to=%2Faccount&next=%2Fother", nil)
	if got := a.m.NextOr(r, "/"); got != "/account" {
		t.Fatalf("NextOr with NextParam = %q, want /account", got)
	}
}

// TestAbsoluteLoginURLWithAllowedHost: an app whose login page is on
// another host (an SSO-style login app) sends the absolute URL of the
// protected page as next, and the login app, which allows this app's host,
// accepts it and nothing else.
func TestAbsoluteLoginURLWithAllowedHost(t *testing.T) {
	app := newApp(t, func(b *loginkit.Builder[*user]) { b.LoginURL("https://login.example/sign-in?app=shop") })
	r := httptest.NewRequest("GET", "https://shop.example/orders?id=7", nil)
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	app.m.Middleware(app.m.Required(http.NotFoundHandler())).ServeHTTP(rec, r)
	loc := rec.Result().Header.Get("Location")
	want := "https://login.example/sign-in?app=shop&next=" + url.QueryEscape("https://shop.example/orders?id=7")
	if rec.Code != http.StatusSeeOther || loc != want {
		t.Fatalf("redirect %d %q, want 303 %q", rec.Code, loc, want)
	}
	if got := app.m.LoginRedirectURL(r); got != want {
		t.Fatalf("LoginRedirectURL = %q, want the guard's own %q", got, want)
	}

	login := newApp(t, func(b *loginkit.Builder[*user]) { b.AllowedHosts("shop.example") })
	u, _ := url.Parse(loc)
	next := u.Query().Get("next")
	back := httptest.NewRequest("POST", "/sign-in?next="+url.QueryEscape(next), nil)
	if got := login.m.NextOr(back, "/"); got != "https://shop.example/orders?id=7" {
		t.Fatalf("login app NextOr = %q, want the shop's URL", got)
	}
	for _, evil := range []string{
		"https://evil.example/orders", "https://shop.example@evil.example/", "https://shop.example.evil.example/",
		"https://evil.example\\@shop.example/", "javascript://shop.example/%0aalert(1)", "//shop.example/x",
		"https://shop.example/..//evil.example", "https://shop.example/%2F%2Fevil.example", "https://shop.example:444/x",
	} {
		r := httptest.NewRequest("POST", "/sign-in?next="+url.QueryEscape(evil), nil)
		if got := login.m.NextOr(r, "/home"); got != "/home" {
			t.Errorf("NextOr accepted %q as %q", evil, got)
		}
	}
	// Without the option, absolute URLs stay refused.
	if _, ok := loginkit.SafeNext("https://shop.example/orders"); ok {
		t.Fatal("SafeNext without allowed hosts accepted an absolute URL")
	}
	if got, ok := loginkit.SafeNext("HTTPS://SHOP.EXAMPLE/x", "shop.example"); !ok || got != "HTTPS://SHOP.EXAMPLE/x" {
		t.Fatalf("host match ignores case: %q %v", got, ok)
	}
}

func TestSameHostAbsoluteLoginURLKeepsRelativeNext(t *testing.T) {
	a := newApp(t, func(b *loginkit.Builder[*user]) { b.LoginURL("https://shop.example/login") })
	r := httptest.NewRequest("GET", "https://shop.example/orders", nil)
	if got := a.m.LoginRedirectURL(r); got != "https://shop.example/login?next=%2Forders" {
		t.Fatalf("LoginRedirectURL = %q", got)
	}
}

// TestUnauthorizedHandlerReusesNextBuilding: a custom unauthorized handler
// (here: a JSON body naming where to log in) builds the same URL as the
// default redirect.
func TestUnauthorizedHandlerReusesNextBuilding(t *testing.T) {
	var m *loginkit.Manager[*user]
	a := newApp(t, func(b *loginkit.Builder[*user]) {
		b.NextParam("to").UnauthorizedHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(m.LoginRedirectURL(r)))
		}))
	})
	m = a.m
	res := a.browser().get("/protected?x=1")
	if got := body(res); res.StatusCode != 401 || got != "/login?to=%2Fprotected%3Fx%3D1" {
		t.Fatalf("%d %q", res.StatusCode, got)
	}
	if got := m.RefreshRedirectURL(httptest.NewRequest("GET", "/fresh", nil)); got != "/reauth?to=%2Ffresh" {
		t.Fatalf("RefreshRedirectURL = %q", got)
	}
}

func TestBuildRefusesBadNextParamAndHosts(t *testing.T) {
	for name, f := range map[string]appOption{
		"param with space": func(b *loginkit.Builder[*user]) { b.NextParam("a b") },
		"param with &":     func(b *loginkit.Builder[*user]) { b.NextParam("a&b") },
		"host with @":      func(b *loginkit.Builder[*user]) { b.AllowedHosts("a@b") },
		"empty host":       func(b *loginkit.Builder[*user]) { b.AllowedHosts("") },
	} {
		b := loginkit.New[*user]().Loader(memstore.NewUsers[user]()).Sessions(memstore.NewSessions())
		if _, err := b.Build(); err != nil {
			t.Fatalf("base configuration: %v", err)
		}
		f(b)
		if _, err := b.Build(); !isErr(err, loginkit.ErrConfig) {
			t.Errorf("%s: Build = %v, want ErrConfig", name, err)
		}
	}
}
