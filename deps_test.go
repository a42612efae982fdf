package loginkit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootImportsNoDriver checks the layout promise: an application that
// imports only the root package compiles no database driver.
func TestRootImportsNoDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/uptrace/bun", "go.mongodb.org/mongo-driver", "github.com/redis/go-redis", "modernc.org/sqlite", "github.com/chromedp"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the root package depends on %s", dep)
			}
		}
	}
}
