package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/loginkit/loginkit/hashers"
)

// ExampleNewApp builds the app on a new SQLite file and asks the JSON API
// who is logged in: nobody yet.
func ExampleNewApp() {
	dir, err := os.MkdirTemp("", "quickstart-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	stores, closeDB, err := openSQLite(context.Background(), filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer closeDB()
	app, err := NewApp(stores, Options{
		Hasher:          hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))), // cheap, for the example only
		InsecureCookies: true,
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/me")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))
	// Output: 401 {"error":"unauthorized","message":"Please log in to access this page."}
}
