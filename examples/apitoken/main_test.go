package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
)

func TestIssueUseAndRevokeAPIToken(t *testing.T) {
	users := memstore.NewUsers[User]()
	a, h, err := NewApp(users, memstore.NewSessions(), memstore.NewTokens(), hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))), true)
	if err != nil {
		t.Fatal(err)
	}
	u := &User{}
	u.Username = "demo"
	if err := a.m.Register(context.Background(), u, "demo-password"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	res, err := browser.PostForm(srv.URL+"/login", url.Values{"login": {"demo"}, "password": {"demo-password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = browser.PostForm(srv.URL+"/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`<code id="new-token">([^<]+)</code>`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no token on the page: %s", page)
	}
	token := string(m[1])

	api := func(tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if len(res.Cookies()) != 0 {
			t.Fatalf("a bearer-token request got cookies: %v", res.Cookies())
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if code, out := api(token); code != http.StatusOK || out["username"] != "demo" || out["session"] != false {
		t.Fatalf("API call with the token: %d %v", code, out)
	}
	if code, _ := api(token[:len(token)-1] + "x"); code != http.StatusUnauthorized {
		t.Fatalf("API call with a wrong secret: %d", code)
	}
	if code, _ := api(""); code != http.StatusUnauthorized {
		t.Fatalf("API call without a token: %d", code)
	}
	// Stored hashed: the store has the selector and a hash, never the secret.
	stored, err := a.tokens.ListByUser(context.Background(), u.ID, PurposeAPI)
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored tokens: %v, %v", stored, err)
	}
	selector, secret, _ := strings.Cut(token, ".")
	if stored[0].Selector != selector || stored[0].ValidatorHash == "" || strings.Contains(stored[0].ValidatorHash, secret) {
		t.Fatalf("stored token %+v for %q", stored[0], token)
	}
	if strings.Count(string(page), token) != 1 {
		t.Fatal("the new token is not shown exactly once")
	}
	res, err = browser.Get(srv.URL + "/tokens")
	if err != nil {
		t.Fatal(err)
	}
	listPage, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(listPage), secret) || !strings.Contains(string(listPage), selector) {
		t.Fatal("the tokens page shows a secret, or not the selector")
	}
	// A bearer token cannot mint tokens.
	req, _ := http.NewRequest("POST", srv.URL+"/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("token minting with a bearer token: %v %v", res.StatusCode, err)
	}
	// Revoke through the page; the token stops working.
	res, err = browser.PostForm(srv.URL+"/tokens/"+selector+"/revoke", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if code, _ := api(token); code != http.StatusUnauthorized {
		t.Fatalf("API call with a revoked token: %d", code)
	}

	// Two new tokens; "log out everywhere" voids both.
	var fresh []string
	for range 2 {
		res, err := browser.PostForm(srv.URL+"/tokens", nil)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := regexp.MustCompile(`<code id="new-token">([^<]+)</code>`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("no token on the page: %s", page)
		}
		fresh = append(fresh, string(m[1]))
	}
	for _, tok := range fresh {
		if code, _ := api(tok); code != http.StatusOK {
			t.Fatalf("new token: %d", code)
		}
	}
	res, err = browser.PostForm(srv.URL+"/logout-everywhere", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, tok := range fresh {
		if code, _ := api(tok); code != http.StatusUnauthorized {
			t.Fatalf("a token survived logging out everywhere: %d", code)
		}
	}
	if res.Request.URL.Path != "/tokens" || res.StatusCode != http.StatusOK {
		t.Fatalf("the browser that logged out everywhere else lost its session: %d at %s", res.StatusCode, res.Request.URL)
	}
}
