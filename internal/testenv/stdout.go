package testenv

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// Stdout runs f with os.Stdout redirected to a pipe and returns what f
// printed: for tests that run an Example against a server the Example
// cannot skip without (an Example with an Output comment always runs).
func Stdout(t testing.TB, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, r)
		out <- b.String()
	}()
	func() {
		defer func() { os.Stdout = stdout }()
		f()
	}()
	_ = w.Close()
	return <-out
}
