package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
)

// ExampleNewApp issues an API token for a user and calls the API with it,
// as a script would.
func ExampleNewApp() {
	ctx := context.Background()
	tokens := memstore.NewTokens()
	a, h, err := NewApp(memstore.NewUsers[User](), memstore.NewSessions(), tokens,
		hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))), true)
	if err != nil {
		panic(err)
	}
	u := &User{}
	u.Username = "robot"
	if err := a.m.Register(ctx, u, "robot-password"); err != nil {
		panic(err)
	}
	token, _, err := loginkit.IssueToken(ctx, tokens, u.ID, PurposeAPI, u.SessionVersion, time.Hour)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode)
	fmt.Println(len(body) > 0 && res.Header.Get("Set-Cookie") == "")
	// Output:
	// 200
	// true
}
