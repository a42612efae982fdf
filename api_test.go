package loginkit_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loginkit/loginkit/internal/apidump"
)

var updateAPI = flag.Bool("update-api", false, "rewrite the golden files of the exported API in testdata/api")

const apiRegenerate = "if the change is intended, regenerate with `LOGINKIT_UPDATE_API=1 go test -run TestExportedAPI .` (or `go test -run TestExportedAPI . -update-api`) and review the diff of testdata/api/ before committing"

// TestExportedAPI compares the exported API of every package of the module
// (internal and example packages excepted) with its golden file in
// testdata/api, so that every addition, removal or signature change shows
// as a reviewed diff.
func TestExportedAPI(t *testing.T) {
	update := *updateAPI || os.Getenv("LOGINKIT_UPDATE_API") != ""
	golden := filepath.Join("testdata", "api")
	dirs := apiPackageDirs(t)
	if len(dirs) < 5 {
		t.Fatalf("found only %d packages: %q", len(dirs), dirs)
	}
	want := map[string]bool{}
	for _, dir := range dirs {
		lines, err := apidump.Dump(dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		name := apiGoldenName(dir)
		want[name] = true
		path := filepath.Join(golden, name)
		got := strings.Join(lines, "\n") + "\n"
		if update {
			if err := os.MkdirAll(golden, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("package %s has no golden API file %s; %s", dir, path, apiRegenerate)
			continue
		}
		if string(old) != got {
			added, removed := lineDiff(strings.Split(strings.TrimSuffix(string(old), "\n"), "\n"), lines)
			t.Errorf("exported API of package %s differs from %s:\n%s%s\n%s", dir, path,
				prefixLines("+ ", added), prefixLines("- ", removed), apiRegenerate)
		}
	}
	entries, _ := os.ReadDir(golden)
	for _, e := range entries {
		if !want[e.Name()] {
			if update {
				_ = os.Remove(filepath.Join(golden, e.Name()))
				continue
			}
			t.Errorf("golden API file %s belongs to no package; %s", filepath.Join(golden, e.Name()), apiRegenerate)
		}
	}
}

// apiPackageDirs lists the module's package directories, without internal,
// examples, testdata, nested modules and main packages.
func apiPackageDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		base := d.Name()
		if path != "." {
			if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "internal" || base == "examples" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		files, _ := filepath.Glob(filepath.Join(path, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if strings.Contains(string(src), "\npackage main\n") || strings.HasPrefix(string(src), "package main\n") {
				return nil
			}
			dirs = append(dirs, path)
			return nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// apiGoldenName names the golden file of the package in dir:
// "loginkit.txt" for the root, "adapters_memstore.txt" for adapters/memstore.
func apiGoldenName(dir string) string {
	if dir == "." {
		return "loginkit.txt"
	}
	return strings.ReplaceAll(filepath.ToSlash(dir), "/", "_") + ".txt"
}

// lineDiff returns the lines of b not in a and the lines of a not in b.
func lineDiff(a, b []string) (added, removed []string) {
	for _, l := range b {
		if !slices.Contains(a, l) {
			added = append(added, l)
		}
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

func prefixLines(p string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(p + l + "\n")
	}
	return b.String()
}
