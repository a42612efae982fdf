package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit/examples/internal/webserver"
)

// command runs the quickstart command as a subprocess (the test binary,
// see TestMain) and returns its output and exit code.
func command(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "QUICKSTART_RUN_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("running %v: %v", args, err)
	return "", -1
}

func TestCreateUserCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	out, code := command(t, "first password\nfirst password\n", "createuser", "-db", db, "-email", "Ann@Example.com", "-username", "Ann", "-admin")
	if code != 0 || !strings.Contains(out, "created user Ann <Ann@Example.com> (administrator)") {
		t.Fatalf("createuser: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
		code        int
	}{
		{"duplicate username in another case", "other password\nother password\n",
			[]string{"-email", "new@example.com", "-username", "ANN"}, "username: That username is taken.", 1},
		{"duplicate email in another case", "other password\nother password\n",
			[]string{"-email", "ann@EXAMPLE.COM", "-username", "ann2"}, "email: An account with that email already exists.", 1},
		{"full-width @ in the username", "other password\nother password\n",
			[]string{"-email", "bob@example.com", "-username", "bob＠home"}, `username: A username cannot contain '@' or a character that stands for it (here "＠").`, 1},
		{"email without @", "other password\nother password\n",
			[]string{"-email", "bob＠example.com", "-username", "bob"}, "email: Enter a valid email address.", 1},
		{"passwords differ", "other password\nanother password\n",
			[]string{"-email", "bob@example.com", "-username", "bob"}, "the passwords do not match", 1},
		{"short password", "short\nshort\n",
			[]string{"-email", "bob@example.com", "-username", "bob"}, "password: Use at least 8 characters.", 1},
		{"one line only", "other password\n",
			[]string{"-email", "bob@example.com", "-username", "bob"}, "two lines on standard input", 1},
		{"missing flags", "", []string{"-email", "bob@example.com"}, "-email and -username are required", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := command(t, tc.stdin, append([]string{"createuser", "-db", db}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}

	// The user logs in to the app on that database, as an administrator.
	ta := newTestAppOn(t, db, defaultHasher())
	if n := ta.userCount(); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	c := ta.client()
	c.mustLogin("ann", "first password", false)
	wantStatus(t, "admin page", c.get("/admin/users"), http.StatusOK)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the server as `go run ./examples/quickstart ARGS...`
// does, until the test ends. It returns the server's base URL and its log
// so far (the start-up lines).
func startServer(t *testing.T, args ...string) (base string, log *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), pw)
		pw.Close()
	}()
	log = &syncBuffer{}
	urlRE := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(pr)
	for base == "" && sc.Scan() {
		log.Write(append(sc.Bytes(), '\n'))
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	go func() { _, _ = io.Copy(log, pr) }()
	if base == "" {
		cancel()
		t.Fatalf("no listening line in the log:\n%s\n%v", log.String(), <-done)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v\n%s", err, log.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return base, log
}

// TestServeCreatesTheDatabase runs the server the way `go run
// ./examples/quickstart -db PATH` does, on a free port, and stops it.
func TestServeCreatesTheDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "new.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("serve", func(t *testing.T) {
		base, _ := startServer(t, "-addr", "127.0.0.1:0", "-db", db)
		res, err := http.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /login: %d", res.StatusCode)
		}
	})
	if !webserver.IsLoopback("127.0.0.1:8080") || !webserver.IsLoopback("[::1]:8080") || !webserver.IsLoopback("localhost:80") || webserver.IsLoopback(":8080") || webserver.IsLoopback("0.0.0.0:8080") {
		t.Fatal("IsLoopback misjudges an address")
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the database file was not created: %v", err)
	}
}
