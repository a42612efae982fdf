// Command postgres-redis is a loginkit application that keeps its users in
// PostgreSQL (package adapters/sqlstore) and its sessions and remember-me
// tokens in Redis (package adapters/redisstore), configured by environment
// variables. Any number of instances can run side by side with no load
// balancer and no sticky sessions: a login on one is a login on all, and a
// logout on one is a logout on all, because every instance reads the same
// stores on every request.
//
//	export LOGINKIT_POSTGRES_URL=postgres://user:pass@127.0.0.1:5432/app?sslmode=disable
//	export LOGINKIT_REDIS_URL=redis://127.0.0.1:6379/0
//	go run ./examples/postgres-redis -addr 127.0.0.1:8084 -name blue &
//	go run ./examples/postgres-redis -addr 127.0.0.1:8085 -name green &
//
// Browsers send cookies to a host whatever the port, so log in on
// http://127.0.0.1:8084 and http://127.0.0.1:8085 knows you. The tables are
// created on first start; several instances may start at once.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/loginkit/loginkit/examples/internal/webserver"
	"github.com/loginkit/loginkit/hashers"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8084", "address to listen on")
	name := flag.String("name", "", "this instance's name, shown on its pages (default: the address)")
	flag.Parse()
	if *name == "" {
		*name = *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, *name); err != nil {
		fmt.Fprintln(os.Stderr, "postgres-redis:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, addr, name string) error {
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Name = name
	cfg.Hasher = hashers.Default()
	cfg.InsecureCookies = webserver.IsLoopback(addr)
	app, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	slog.Info("postgres-redis listening", "url", "http://"+addr, "instance", name)
	return webserver.Run(ctx, addr, app.Handler())
}
