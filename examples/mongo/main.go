// Command mongo is a loginkit application that keeps everything in
// MongoDB (package adapters/mongostore): users, sessions and remember-me
// tokens, in three collections of one database. Its user model carries a
// list of roles, stored in the same document, and an /admin page guarded
// by a policy on them.
//
//	export LOGINKIT_MONGO_URL=mongodb://127.0.0.1:27017
//	export LOGINKIT_MONGO_DB=loginkit_example   # the default
//	go run ./examples/mongo -addr 127.0.0.1:8086
//
// The unique and expiry indexes are created at start-up. On servers
// without TTL indexes (FerretDB), the app sweeps expired sessions and
// tokens itself every few minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/loginkit/loginkit/examples/internal/webserver"
	"github.com/loginkit/loginkit/hashers"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8086", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "mongo:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, addr string) error {
	uri := os.Getenv("LOGINKIT_MONGO_URL")
	if uri == "" {
		return errors.New("set LOGINKIT_MONGO_URL (mongodb://host:27017)")
	}
	dbName := os.Getenv("LOGINKIT_MONGO_DB")
	if dbName == "" {
		dbName = "loginkit_example"
	}
	app, err := Open(ctx, Config{
		MongoURL:        uri,
		Database:        dbName,
		Hasher:          hashers.Default(),
		InsecureCookies: webserver.IsLoopback(addr),
	})
	if err != nil {
		return err
	}
	defer app.Close(context.Background())
	go app.SweepExpired(ctx, 5*time.Minute)
	slog.Info("mongo example listening", "url", "http://"+addr, "database", dbName)
	return webserver.Run(ctx, addr, app.Handler())
}
