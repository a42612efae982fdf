// Command ferretdb runs a FerretDB server (a MongoDB wire-protocol server)
// with its SQLite backend, for loginkit's MongoDB adapter tests.
//
// It exists because the upstream command cannot be installed with
// `go install` at the pinned version; this program embeds the upstream
// package instead. It listens on a TCP address, keeps its SQLite files in a
// state directory, and exits cleanly (status 0) on SIGTERM or SIGINT.
//
// Usage:
//
//	ferretdb -listen 127.0.0.1:17017 -state-dir /tmp/ferretdb-state
//
// The state directory is created if it does not exist. The server logs
// errors to stderr; -log-level warn adds every error reply sent to a
// client, and -log-level debug every request.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	// Catch the signals first, so that a stop request that arrives while
	// the backend is still opening is not fatal.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	listen := flag.String("listen", "127.0.0.1:17017", "TCP address to listen on")
	stateDir := flag.String("state-dir", "", "directory for the SQLite databases (required; created if missing)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn or error")
	flag.Parse()

	if *stateDir == "" {
		return fmt.Errorf("-state-dir is required")
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// The SQLite backend wants a file: URI naming a directory, ending in "/".
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(dir) + "/",
	})
	if err != nil {
		return err
	}

	logger.Info("listening", "uri", f.MongoDBURI(), "state-dir", dir)
	return f.Run(ctx)
}
