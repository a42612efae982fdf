package main

import (
	"context"
	"fmt"
	"net/http/httptest"
)

// An anonymous browser asking for the protected page is sent to the login
// page, with the page to come back to.
func Example() {
	h, err := newApp(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location"))
	// Output: 303 /login?next=%2Fprotected
}
