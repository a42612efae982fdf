package loginkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
)

// apiKeys authenticates "Authorization: Bearer <key>" from a fixed table.
func apiKeys(keys map[string]*user) loginkit.RequestLoaderFunc[*user] {
	return func(r *http.Request) (*user, error) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if u, found := keys[key]; ok && found {
			return u, nil
		}
		return nil, loginkit.ErrNotFound
	}
}

func TestRequestLoaderOnlyManager(t *testing.T) {
	bot := &user{Name: "bot"}
	bot.ID = "bot-1"
	var loaded []string
	m, err := loginkit.New[*user]().
		RequestLoader(apiKeys(map[string]*user{"s3cret": bot})).
		Hooks(loginkit.Hooks[*user]{UserLoadedFromRequest: func(_ *http.Request, u *user) { loaded = append(loaded, u.Name) }}).
		Build()
	if err != nil {
		t.Fatalf("Build with only a request loader: %v", err)
	}
	h := m.Middleware(m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = w.Write([]byte(u.Name))
	})))
	call := func(auth string) *http.Response {
		r := httptest.NewRequest("GET", "/api/me", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}
	res := call("Bearer s3cret")
	if res.StatusCode != 200 || body(res) != "bot" {
		t.Fatalf("with the key: %d %q", res.StatusCode, body(res))
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("an API-only manager set cookies: %v", sc)
	}
	if len(loaded) != 1 || loaded[0] != "bot" {
		t.Fatalf("UserLoadedFromRequest calls: %v", loaded)
	}
	for _, auth := range []string{"", "Bearer wrong"} {
		if res := call(auth); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: status %d, want 401", auth, res.StatusCode)
		}
	}

	// Session operations say what is missing instead of crashing.
	r := httptest.NewRequest("POST", "/login", nil)
	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, bot, loginkit.LoginOptions{}); !isErr(err, loginkit.ErrConfig) {
			t.Errorf("Login on an API-only manager = %v, want ErrConfig", err)
		}
		if err := m.SetValue(w, r, "k", "v"); !isErr(err, loginkit.ErrConfig) {
			t.Errorf("SetValue on an API-only manager = %v, want ErrConfig", err)
		}
		if err := m.Logout(w, r); err != nil {
			t.Errorf("Logout on an API-only manager = %v", err)
		}
	})).ServeHTTP(rec, r)
	if sc := rec.Result().Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("session operations set cookies: %v", sc)
	}
	if err := m.RevokeUser(context.Background(), bot); !isErr(err, loginkit.ErrConfig) {
		t.Fatalf("RevokeUser without a user store = %v, want ErrConfig", err)
	}
}

func TestBuildNeedsSessionsOrRequestLoader(t *testing.T) {
	_, err := loginkit.New[*user]().Build()
	if !isErr(err, loginkit.ErrConfig) || !strings.Contains(err.Error(), "RequestLoader") {
		t.Fatalf("Build with nothing = %v, want ErrConfig naming the RequestLoader alternative", err)
	}
	_, err = loginkit.New[*user]().RequestLoader(apiKeys(nil)).Remember(loginkit.RememberOptions{}).Build()
	if !isErr(err, loginkit.ErrConfig) {
		t.Fatalf("remember-me without sessions = %v, want ErrConfig", err)
	}
}
