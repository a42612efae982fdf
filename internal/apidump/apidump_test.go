package apidump

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDump(t *testing.T) {
	dir := t.TempDir()
	src := `package p

import "context"

// T is exported.
type T[K comparable] struct {
	Name string
	hidden int
	Embedded
}

type Embedded struct{}

type I interface {
	Do(ctx context.Context, n int) (string, error)
	Embedded2
}

type Embedded2 interface{ X() }

type unexported struct{ A int }

func (unexported) Exported() {}

func (t *T[K]) Method(k K) bool { return false }

func F(a, b int, s ...string) error { return nil }

func g() {}

const (
	A Kind = iota
	B
	c
)

type Kind int

const S = "s"

var V, w = 1, 2
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nfunc Test() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Dump(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"const A Kind",
		"const B Kind",
		`const S = "s"`,
		"func F(int, int, ...string) error",
		"method (*T[K]) Method(K) bool",
		"type Embedded struct",
		"type Embedded2 interface",
		"type Embedded2 interface, X()",
		"type I interface",
		"type I interface, Do(context.Context, int) (string, error)",
		"type I interface, embedded Embedded2",
		"type Kind int",
		"type T[K comparable] struct",
		"type T[K comparable] struct, Name string",
		"type T[K comparable] struct, embedded Embedded",
		"var V",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Dump:\n%q\nwant:\n%q", got, want)
	}
}
