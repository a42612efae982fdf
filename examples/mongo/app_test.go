package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/internal/testenv"
)

// startApp runs the app on a fresh database, dropped when the test ends.
func startApp(t *testing.T) (*App, *httptest.Server) {
	t.Helper()
	uri := testenv.Require(t, testenv.MongoURL)
	var b [4]byte
	_, _ = rand.Read(b[:])
	dbName := "loginkit_example_" + hex.EncodeToString(b[:])
	app, err := Open(context.Background(), Config{
		MongoURL:        uri,
		Database:        dbName,
		Admins:          []string{"Root@Example.com"},
		Hasher:          hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))),
		InsecureCookies: true, // httptest serves plain HTTP on 127.0.0.1
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx := context.Background()
		if err := app.client.Database(dbName).Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", dbName, err)
		}
		_ = app.Close(ctx)
	})
	return app, srv
}

// apiClient is a JSON client with a cookie jar.
type apiClient struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
	hc   *http.Client
}

func newClient(t *testing.T, base string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: base, jar: jar, hc: &http.Client{Jar: jar}}
}

func (c *apiClient) call(method, path string, in any) (int, map[string]any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	if out == nil {
		out = map[string]any{"raw": string(data)}
	}
	return res.StatusCode, out
}

// restart keeps only the remember cookie, as a browser restart does.
func (c *apiClient) restart() {
	u, _ := url.Parse(c.base)
	var keep []*http.Cookie
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == "remember" {
			keep = append(keep, &http.Cookie{Name: ck.Name, Value: ck.Value, Path: "/"})
		}
	}
	c.jar, _ = cookiejar.New(nil)
	c.jar.SetCookies(u, keep)
	c.hc.Jar = c.jar
}

func (c *apiClient) me() (int, map[string]any) {
	c.t.Helper()
	return c.call("GET", "/api/me", nil)
}

func TestMongoFlow(t *testing.T) {
	app, srv := startApp(t)
	root, ann := newClient(t, srv.URL), newClient(t, srv.URL)

	if code, out := root.call("POST", "/api/register", map[string]string{"username": "root", "email": "root@example.com", "password": "admin password", "displayname": "Root"}); code != http.StatusCreated {
		t.Fatalf("register root: %d %v", code, out)
	}
	code, out := ann.call("POST", "/api/register", map[string]string{"username": "ann", "email": "ann@example.com", "password": "correct horse", "displayname": "Ann Ångström"})
	if code != http.StatusCreated || out["display_name"] != "Ann Ångström" {
		t.Fatalf("register ann: %d %v", code, out)
	}
	if code, _ := newClient(t, srv.URL).call("POST", "/api/register", map[string]string{"username": "ANN", "email": "other@example.com", "password": "correct horse"}); code != http.StatusConflict {
		t.Fatalf("duplicate username in another case: %d", code)
	}

	// The whole user, own fields included, is one document.
	raw := app.users.Collection()
	var doc bson.M
	if err := raw.FindOne(context.Background(), bson.M{"username": "ann"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["display_name"] != "Ann Ångström" || doc["password_hash"] == "correct horse" || doc["email_key"] != "ann@example.com" {
		t.Fatalf("stored document: %v", doc)
	}

	// Roles guard the admin API.
	if code, out := ann.call("GET", "/api/admin/users", nil); code != http.StatusForbidden {
		t.Fatalf("member on the admin API: %d %v", code, out)
	}
	code, out = root.call("GET", "/api/admin/users", nil)
	if code != http.StatusOK || out["total"] != float64(2) {
		t.Fatalf("admin API: %d %v", code, out)
	}
	users := out["users"].([]any)
	if roles := users[0].(map[string]any)["roles"].([]any); len(roles) != 2 || roles[1] != "admin" {
		t.Fatalf("root's roles: %v", roles)
	}

	// Log out, log in with remember me, restart: still logged in.
	if code, _ := ann.call("POST", "/api/logout", nil); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if code, out := ann.me(); code != http.StatusUnauthorized || out["error"] != "unauthorized" {
		t.Fatalf("/api/me after logout: %d %v", code, out)
	}
	if code, out := ann.call("POST", "/api/login", map[string]any{"login": "ann", "password": "wrong"}); code != http.StatusUnauthorized || out["message"] != "Invalid username or password" {
		t.Fatalf("wrong password: %d %v", code, out)
	}
	if code, out := ann.call("POST", "/api/login", map[string]any{"login": "ANN@example.com", "password": "correct horse", "remember": true}); code != http.StatusOK {
		t.Fatalf("login: %d %v", code, out)
	}
	ann.restart()
	code, out = ann.me()
	if code != http.StatusOK || out["remembered"] != true || out["user"].(map[string]any)["username"] != "ann" {
		t.Fatalf("/api/me after a restart: %d %v", code, out)
	}

	// A second device; the first lists both sessions and ends the other.
	phone := newClient(t, srv.URL)
	if code, _ := phone.call("POST", "/api/login", map[string]any{"login": "ann", "password": "correct horse"}); code != http.StatusOK {
		t.Fatalf("phone login: %d", code)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/sessions", nil)
	res, err := ann.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sessions []map[string]any
	_ = json.NewDecoder(res.Body).Decode(&sessions)
	res.Body.Close()
	// The session the browser forgot at its restart is still stored (it
	// would expire by itself), next to the remembered one and the phone's.
	if len(sessions) != 3 {
		t.Fatalf("%d sessions listed, want 3", len(sessions))
	}
	current := 0
	for _, s := range sessions {
		if s["current"] == true {
			current++
		}
	}
	if current != 1 {
		t.Fatalf("%d sessions marked current", current)
	}
	if code, _ := ann.call("POST", "/api/sessions/revoke-others", nil); code != http.StatusNoContent {
		t.Fatalf("revoke others: %d", code)
	}
	if code, _ := phone.me(); code != http.StatusUnauthorized {
		t.Fatalf("the phone after revoke-others: %d", code)
	}
	if code, _ := ann.me(); code != http.StatusOK {
		t.Fatalf("the revoking device lost its login: %d", code)
	}
}
