package loginkittest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/loginkittest"
)

// A handler test logs a user in with one call. In a real test, pass the
// test's t; the Example uses a stand-in.
func Example() {
	t := &testing.T{}
	users := memstore.NewUsers[member]()
	m, err := loginkit.New[*member]().Loader(users).Sessions(memstore.NewSessions()).Build()
	if err != nil {
		panic(err)
	}
	ann := &member{loginkit.Account{Username: "ann"}}
	_ = users.Create(context.Background(), ann)
	account := m.Middleware(m.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		fmt.Fprintf(w, "hello %s", u.Username)
	})))

	rec := httptest.NewRecorder()
	account.ServeHTTP(rec, loginkittest.Request(t, m, ann, "GET", "/account", nil))
	fmt.Println(rec.Code, rec.Body.String())

	rec = httptest.NewRecorder()
	account.ServeHTTP(rec, loginkittest.Request(t, m, ann, "GET", "/account", nil, loginkittest.NotFresh()))
	fmt.Println(rec.Code)
	// Output:
	// 200 hello ann
	// 401
}
