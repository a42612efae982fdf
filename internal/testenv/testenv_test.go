package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recordTB records Skip and Fatal and ends the calling goroutine, as
// testing.T does, without ending the test that uses it.
type recordTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordTB) Helper()                   {}
func (r *recordTB) Skip(args ...any)          { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recordTB) Fatal(args ...any)         { r.failed = fmt.Sprint(args...); runtime.Goexit() }
func (r *recordTB) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...); runtime.Goexit() }

// outcome runs fn in a goroutine of its own with a recordTB and reports
// what it skipped or failed with.
func outcome(t *testing.T, fn func(tb testing.TB)) (skipped, failed string) {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r.skipped, r.failed
}

func TestRequire(t *testing.T) {
	const name = "LOGINKIT_TESTENV_TEST_URL"
	t.Setenv(name, "")
	t.Setenv("CI", "")
	if skipped, failed := outcome(t, func(tb testing.TB) { Require(tb, name) }); !strings.Contains(skipped, name) || failed != "" {
		t.Fatalf("unset, local: skipped %q, failed %q; want a skip naming %s", skipped, failed, name)
	}

	t.Setenv("CI", "true")
	if !CI() {
		t.Fatal("CI() = false with CI=true")
	}
	if skipped, failed := outcome(t, func(tb testing.TB) { Require(tb, name) }); !strings.Contains(failed, name) || skipped != "" {
		t.Fatalf("unset, CI=true: skipped %q, failed %q; want a failure naming %s", skipped, failed, name)
	}

	t.Setenv(name, "redis://example")
	var got string
	if skipped, failed := outcome(t, func(tb testing.TB) { got = Require(tb, name) }); got != "redis://example" || skipped != "" || failed != "" {
		t.Fatalf("set: got %q, skipped %q, failed %q", got, skipped, failed)
	}
}

func TestBSONNumber(t *testing.T) {
	docs := map[string][]byte{
		// {ok: 1.0}
		"double": {0x11, 0, 0, 0, 0x01, 'o', 'k', 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0},
		// {n: int32(2), ok: int64(1)}
		"ints": {0x18, 0, 0, 0, 0x10, 'n', 0, 2, 0, 0, 0, 0x12, 'o', 'k', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	for name, doc := range docs {
		got, err := bsonNumber(doc, "ok")
		if err != nil || got != 1 {
			t.Errorf("%s: %v, %v; want 1", name, got, err)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{5, 0, 0},
		{0xff, 0, 0, 0, 0},
		{0x0c, 0, 0, 0, 0x02, 'o', 'k', 0, 0xff, 0, 0, 0},
		{0x05, 0, 0, 0, 0},
	} {
		if _, err := bsonNumber(bad, "ok"); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}
