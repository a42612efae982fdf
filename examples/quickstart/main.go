// Command quickstart is a complete web application built with loginkit:
// register, log in with "remember me", log out, change password (with a
// fresh-login check), an active sessions list, user administration and a
// small JSON API, with users, sessions and tokens in one SQLite file.
//
//	go run ./examples/quickstart                      # serve on http://127.0.0.1:8080
//	go run ./examples/quickstart -addr 127.0.0.1:9000 -db app.db
//	go run ./examples/quickstart createuser -email ann@example.com -username ann -admin
//	go run ./examples/quickstart import-users -db app.db users.csv
//
// The database file is created and migrated on first run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const defaultDB = "quickstart.db"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "createuser":
			return createUser(ctx, args[1:], stdin, stdout)
		case "import-users":
			return importUsers(ctx, args[1:], stdout)
		}
	}
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := fs.String("db", defaultDB, "SQLite database file (created and migrated on first run)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return serve(ctx, *addr, *dbPath, stdout)
}

func serve(ctx context.Context, addr, dbPath string, stdout io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, closeDB, err := openSQLite(ctx, dbPath)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := NewApp(st, Options{
		Hasher:   defaultHasher(),
		Policies: defaultPolicies(),
		// Plain HTTP is fine on this machine's loopback interface only.
		InsecureCookies: isLoopback(addr),
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if !isLoopback(addr) {
		logger.Info("cookies are marked Secure: serve the app over HTTPS, for example behind a TLS-terminating proxy")
	}
	logger.Info("quickstart listening", "url", "http://"+ln.Addr().String(), "db", dbPath)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// isLoopback reports whether addr listens only on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
