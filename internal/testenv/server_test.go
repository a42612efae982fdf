//go:build linux

package testenv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPostgres starts a private cluster, checks it speaks the PostgreSQL
// protocol and asks for a password, writes a row, stops it (the port then
// refuses), starts it again and reads the row back.
func TestPostgres(t *testing.T) {
	t.Parallel()
	s := StartPostgres(t)
	if err := postgresProbe(s.Addr); err != nil {
		t.Fatal(err)
	}
	psql := psqlRunner(t, s)
	psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before restart')")

	pid := s.PID()
	s.Stop(t)
	assertStopped(t, s, pid)
	s.Stop(t) // stopping a stopped server does nothing

	s.Start(t)
	if s.PID() == 0 || s.PID() == pid {
		t.Fatalf("PID after restart = %d, before = %d", s.PID(), pid)
	}
	if err := postgresProbe(s.Addr); err != nil {
		t.Fatal(err)
	}
	if got := psql("SELECT v FROM kept"); got != "before restart" {
		t.Fatalf("after restart: %q, want the row written before", got)
	}
}

// TestRedis starts a private redis-server, stores a key, stops it, starts it
// again and finds the key (saved on shutdown, loaded on start).
func TestRedis(t *testing.T) {
	t.Parallel()
	s := StartRedis(t)
	if !strings.HasPrefix(s.URL, "redis://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL)
	}
	if got := redisDo(t, s.Addr, "SET", "kept", "before restart"); got != "+OK" {
		t.Fatalf("SET: %q", got)
	}
	pid := s.PID()
	s.Stop(t)
	assertStopped(t, s, pid)

	s.Start(t)
	s.Start(t) // starting a running server does nothing
	if err := redisPing(s.Addr); err != nil {
		t.Fatal(err)
	}
	if got := redisDo(t, s.Addr, "GET", "kept"); got != "$14 before restart" {
		t.Fatalf("GET after restart: %q", got)
	}
}

// TestFerretDB starts a private FerretDB, pings it over the MongoDB wire
// protocol, stops it and starts it again.
func TestFerretDB(t *testing.T) {
	t.Parallel()
	s := StartFerretDB(t)
	if err := mongoPing(s.Addr); err != nil {
		t.Fatal(err)
	}
	pid := s.PID()
	s.Stop(t)
	assertStopped(t, s, pid)
	if err := mongoPing(s.Addr); err == nil {
		t.Fatal("ping answered after Stop")
	}
	s.Start(t)
	if err := mongoPing(s.Addr); err != nil {
		t.Fatal(err)
	}
}

// TestCleanup checks that the end of a test stops its server and removes
// its directory.
func TestCleanup(t *testing.T) {
	t.Parallel()
	var s *Server
	t.Run("server", func(t *testing.T) {
		s = StartRedis(t)
	})
	if s == nil {
		t.Skip("no redis-server")
	}
	if s.PID() != 0 {
		t.Fatalf("PID = %d after the test ended, want 0", s.PID())
	}
	if portAnswers(s.Addr) {
		t.Fatalf("%s still answers after the test ended", s.Addr)
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s: %v, want it removed", s.Dir, err)
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(FerretDB, filepath.Join(t.TempDir(), "no-such-ferretdb"))
	t.Setenv("CI", "")
	if skipped, failed := outcome(t, func(tb testing.TB) { StartFerretDB(tb) }); !strings.Contains(skipped, FerretDB) || failed != "" {
		t.Fatalf("skipped %q, failed %q; want a skip naming %s", skipped, failed, FerretDB)
	}
	t.Setenv("CI", "true")
	if skipped, failed := outcome(t, func(tb testing.TB) { StartFerretDB(tb) }); !strings.Contains(failed, FerretDB) || skipped != "" {
		t.Fatalf("CI=true: skipped %q, failed %q; want a failure naming %s", skipped, failed, FerretDB)
	}
}

// assertStopped checks that the old process is gone and the port refuses.
func assertStopped(t *testing.T, s *Server, pid int) {
	t.Helper()
	if s.PID() != 0 {
		t.Fatalf("PID = %d after Stop, want 0", s.PID())
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d after Stop: kill -0 = %v, want ESRCH", pid, err)
	}
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s accepts connections after Stop", s.Addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s after Stop: %v, want connection refused", s.Addr, err)
	}
}

// postgresProbe sends a startup message and wants the server to ask for a
// SASL (SCRAM) password: proof that a PostgreSQL server answers on addr and
// password authentication is on.
func postgresProbe(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	params := "user\x00postgres\x00database\x00postgres\x00\x00"
	msg := binary.BigEndian.AppendUint32(nil, uint32(8+len(params)))
	msg = binary.BigEndian.AppendUint32(msg, 3<<16) // protocol 3.0
	msg = append(msg, params...)
	if _, err := c.Write(msg); err != nil {
		return err
	}
	var reply [9]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		return err
	}
	if reply[0] != 'R' {
		return fmt.Errorf("postgres startup: reply type %q, want 'R'", reply[0])
	}
	if auth := binary.BigEndian.Uint32(reply[5:]); auth != 10 {
		return fmt.Errorf("postgres startup: authentication type %d, want 10 (SASL)", auth)
	}
	return nil
}

// psqlRunner returns a function running SQL through psql with the server's
// URL (password authentication over TCP), returning its unaligned output.
func psqlRunner(t *testing.T, s *Server) func(sql string) string {
	bindir, err := postgresBinDir()
	if err != nil {
		t.Fatal(err)
	}
	psql := filepath.Join(bindir, "psql")
	if _, err := os.Stat(psql); err != nil {
		t.Skip("no psql:", err)
	}
	return func(sql string) string {
		t.Helper()
		out, err := exec.Command(psql, s.URL, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// redisDo sends one command and returns the reply, a bulk string as
// "$<len> <value>".
func redisDo(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		cmd += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "$") && line != "$-1" {
		value, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return line + " " + strings.TrimRight(value, "\r\n")
	}
	return line
}
