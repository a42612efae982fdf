package cookiestore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/internal/valuestest"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// TestSessionValues runs the session-values scenario through the manager
// with sessions sealed in the cookie.
func TestSessionValues(t *testing.T) {
	valuestest.Run(t, newStore(t, testKey(3)), memstore.NewTokens())
}

// TestSessionValuesPastCookieLimit: with a cookie limit lower than what
// MaxValueBytes of values needs, SetValue reports ErrValueTooLarge (and
// ErrTooLarge) and sets no cookie.
func TestSessionValuesPastCookieLimit(t *testing.T) {
	store := newStore(t, testKey(4), cookiestore.WithMaxBytes(512))
	m, err := loginkit.New[*member]().
		Loader(loginkit.LoaderFunc[*member](func(context.Context, string) (*member, error) { return nil, loginkit.ErrNotFound })).
		Sessions(store).Build()
	if err != nil {
		t.Fatal(err)
	}
	var got error
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = m.SetValue(w, r, "note", strings.Repeat("n", 600))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if !errors.Is(got, loginkit.ErrValueTooLarge) || !errors.Is(got, cookiestore.ErrTooLarge) {
		t.Fatalf("SetValue past the cookie limit = %v, want ErrValueTooLarge and ErrTooLarge", got)
	}
	if sc := rec.Result().Cookies(); len(sc) != 0 {
		t.Fatalf("cookies set: %v", sc)
	}
}
