// Package webserver runs the examples' HTTP servers: what every example
// does the same way to serve its handler, so that each one shows only its
// own wiring of loginkit.
package webserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Run serves h on addr until ctx ends, as Serve does.
func Run(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h)
}

// Serve serves h on ln until ctx ends, then shuts the server down, giving
// the requests in flight five seconds to finish before it returns. It
// returns nil after such a shutdown, and otherwise the error that stopped
// the server.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	shutDown := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(shutDown)
		deadline, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(deadline)
	})
	err := srv.Serve(ln)
	if !stop() {
		<-shutDown // the shutdown has begun: let it finish
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// IsLoopback reports whether addr (host:port) listens only on this
// machine, where cookies without the Secure attribute are acceptable over
// plain HTTP.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
