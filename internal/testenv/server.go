package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FerretDB is the environment variable naming the FerretDB binary that
// StartFerretDB runs. scripts/services.sh builds it and exports the path.
const FerretDB = "LOGINKIT_FERRETDB"

// Port range for private servers: below the ephemeral range (32768-60999),
// above the fixed ports of scripts/services.sh (15432, 16379, 17017).
const (
	minPort = 20000
	maxPort = 29999
)

// How long a server may take to start or to stop.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// pgPassword is the password of the postgres role in a private cluster.
const pgPassword = "loginkit"

// A Server is a private database server run by one test: PostgreSQL, Redis
// or FerretDB, listening on 127.0.0.1 on a port of its own, with its data in
// a temporary directory. Stop and Start let a test take it away and bring it
// back to check how a store behaves during and after an outage. The server is
// stopped and its data removed when the test ends.
//
// Stop and Start call tb.Fatal on failure, so call them from the test's own
// goroutine. They are safe to call while other goroutines use the server.
type Server struct {
	// URL is the address a client connects to, such as
	// postgres://postgres:loginkit@127.0.0.1:24321/postgres?sslmode=disable,
	// redis://127.0.0.1:24321/0 or mongodb://127.0.0.1:24321/.
	// It stays the same across Stop and Start.
	URL string
	// Addr is the server's host:port, 127.0.0.1:<Port>.
	Addr string
	// Port is the TCP port the server listens on.
	Port int
	// Dir is the directory holding the server's data and log.
	Dir string

	name    string                  // "postgres", "redis" or "ferretdb"
	command func() *exec.Cmd        // a fresh command that runs the server in the foreground
	owner   *owner                  // the user the server runs as; nil: the test's own
	ready   func(addr string) error // nil when the server answers
	url     func(addr string) string
	stopSig os.Signal // the signal for an orderly, fast shutdown
	logPath string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is a running server and the goroutine that waits for it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// StartPostgres starts a private PostgreSQL cluster for the test: initdb in a
// fresh directory, then the server on a free port, with durability turned
// off for speed. Its URL names the postgres superuser (password
// authentication) and the postgres database. It finds the server binaries
// with pg_config --bindir or under /usr/lib/postgresql; when they are missing
// the test is skipped, or fails under CI=true. When the test runs as root the
// cluster runs as the postgres user.
func StartPostgres(tb testing.TB) *Server {
	tb.Helper()
	bindir, err := postgresBinDir()
	if err != nil {
		unavailable(tb, "PostgreSQL server binaries: "+err.Error())
	}
	own, err := postgresOwner()
	if err != nil {
		unavailable(tb, "PostgreSQL: "+err.Error())
	}
	s := newServer(tb, "postgres")
	s.owner = own
	data := filepath.Join(s.Dir, "data")
	pwfile := filepath.Join(s.Dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(pgPassword+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if own != nil {
		for _, p := range []string{s.Dir, pwfile} {
			if err := os.Chown(p, own.uid, own.gid); err != nil {
				tb.Fatal(err)
			}
		}
	}
	initdb := exec.Command(filepath.Join(bindir, "initdb"), "-D", data, "-U", "postgres",
		"--pwfile="+pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.Dir = s.Dir
	initdb.SysProcAttr = sysProcAttr(own, false)
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("testenv: initdb: %v\n%s", err, out)
	}
	s.stopSig = syscall.SIGINT // PostgreSQL's "fast" shutdown
	s.command = func() *exec.Cmd {
		return exec.Command(filepath.Join(bindir, "postgres"), "-D", data,
			"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.Port), "-k", s.Dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=300")
	}
	s.ready = func(string) error {
		// pg_isready reports "accepting connections" only after recovery and
		// startup, unlike a bare TCP accept.
		out, err := exec.Command(filepath.Join(bindir, "pg_isready"), "-q", "-t", "1",
			"-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres", "-d", "postgres").CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_isready: %v %s", err, out)
		}
		return nil
	}
	s.url = func(addr string) string {
		return fmt.Sprintf("postgres://postgres:%s@%s/postgres?sslmode=disable", pgPassword, addr)
	}
	s.firstStart(tb)
	return s
}

// StartRedis starts a private redis-server for the test on a free port. It
// saves its data to disk when stopped and loads it again on Start, as a
// production server with snapshots would. redis-server is looked up on PATH
// and in /usr/bin; when it is missing the test is skipped, or fails under
// CI=true.
func StartRedis(tb testing.TB) *Server {
	tb.Helper()
	bin, err := lookPath("redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server")
	if err != nil {
		unavailable(tb, "redis-server: "+err.Error())
	}
	if err := platformSupported(); err != nil {
		unavailable(tb, "redis-server: "+err.Error())
	}
	s := newServer(tb, "redis")
	s.stopSig = syscall.SIGTERM // saves the snapshot, then exits
	s.command = func() *exec.Cmd {
		return exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port),
			"--dir", s.Dir, "--dbfilename", "dump.rdb", "--save", "3600", "1", "--appendonly", "no",
			"--daemonize", "no", "--logfile", "")
	}
	s.ready = redisPing
	s.url = func(addr string) string { return "redis://" + addr + "/0" }
	s.firstStart(tb)
	return s
}

// StartFerretDB starts a private FerretDB server (the MongoDB wire protocol
// on SQLite files) for the test on a free port. The binary is the one named by
// the LOGINKIT_FERRETDB environment variable, which scripts/services.sh sets;
// when it is unset the test is skipped, or fails under CI=true.
func StartFerretDB(tb testing.TB) *Server {
	tb.Helper()
	bin := builtBinary(tb, FerretDB, "FerretDB")
	s := newServer(tb, "ferretdb")
	state := filepath.Join(s.Dir, "state")
	s.stopSig = syscall.SIGTERM
	s.command = func() *exec.Cmd {
		return exec.Command(bin, "-listen", s.Addr, "-state-dir", state)
	}
	s.ready = mongoPing
	s.url = func(addr string) string { return "mongodb://" + addr + "/" }
	s.firstStart(tb)
	return s
}

// Stop stops the server by PID with an orderly, fast shutdown (client
// connections are closed), waits for the process to exit and for its port to
// refuse connections. The data stays for Start. Stopping a stopped server
// does nothing.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(stopTimeout); err != nil {
		tb.Fatalf("testenv: stop %s: %v", s.name, err)
	}
	deadline := time.Now().Add(stopTimeout)
	for portAnswers(s.Addr) {
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: %s stopped but %s still accepts connections", s.name, s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start starts the server again on the same port with the same data and
// waits until it answers. Starting a running server does nothing.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	if err := s.startLocked(); err != nil {
		tb.Fatalf("testenv: start %s: %v", s.name, err)
	}
}

// PID returns the process ID of the running server, or 0 while it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// newServer makes the directory of a new server and registers its cleanup:
// stop the process, then remove the directory.
func newServer(tb testing.TB, name string) *Server {
	tb.Helper()
	// Not tb.TempDir: its parent directory is private to the test process's
	// user, and a root test's PostgreSQL runs as the postgres user.
	dir, err := os.MkdirTemp("", "loginkit-"+name+"-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{name: name, Dir: dir, logPath: filepath.Join(dir, name+".log")}
	tb.Cleanup(func() {
		s.mu.Lock()
		err := s.stopLocked(stopTimeout)
		s.mu.Unlock()
		if err != nil {
			tb.Errorf("testenv: stop %s: %v", name, err)
		}
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("testenv: %v", err)
		}
	})
	return s
}

// firstStart picks a free port and starts the server on it, trying other
// ports when the chosen one is taken in the meantime (by a test in another
// process).
func (s *Server) firstStart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for range 5 {
		s.Port, err = freePort()
		if err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		s.URL = s.url(s.Addr)
		if err = s.startLocked(); err == nil {
			return
		}
	}
	tb.Fatalf("testenv: start %s: %v", s.name, err)
}

// startLocked runs the server and waits until it is ready. When it does not
// become ready, the process is stopped and the end of its log returned in the
// error.
func (s *Server) startLocked() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := s.command()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = s.Dir
	// Its own process group, so a Ctrl-C meant for go test does not reach it
	// before the cleanup does, and killed with the test process should that
	// die without cleaning up.
	cmd.SysProcAttr = sysProcAttr(s.owner, true)

	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the
		// child exits, so that thread stays locked to this goroutine until
		// the child is gone.
		runtime.LockOSThread()
		defer close(p.done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	s.proc = p

	deadline := time.Now().Add(readyTimeout)
	for {
		err := s.ready(s.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			s.proc = nil
			return fmt.Errorf("exited during startup: %s\n%s", cmd.ProcessState, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			_ = s.stopLocked(5 * time.Second)
			return fmt.Errorf("not ready after %v: %v\n%s", readyTimeout, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopLocked signals the process to shut down and waits for it to exit,
// killing it when it takes longer than timeout.
func (s *Server) stopLocked(timeout time.Duration) error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	if err := p.cmd.Process.Signal(s.stopSig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("pid %d did not exit within %v of %v; killed", p.cmd.Process.Pid, timeout, s.stopSig)
}

// logTail returns the last lines of the server's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// builtBinary returns the path of the server binary that
// scripts/services.sh builds and exports in the environment variable env,
// once it has checked that the file exists and that this platform runs
// private servers; otherwise the test is skipped, or fails under CI=true.
// name is the server's name in messages.
func builtBinary(tb testing.TB, env, name string) string {
	tb.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		unavailable(tb, env+" is not set: run the tests with scripts/test, which builds "+name+" and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		unavailable(tb, env+": "+err.Error())
	}
	if err := platformSupported(); err != nil {
		unavailable(tb, name+": "+err.Error())
	}
	return bin
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if CI() {
		tb.Fatal("testenv: " + msg + " (CI=true: a missing server is a failure)")
	}
	tb.Skip("testenv: " + msg)
}

// freePort returns a port in [minPort, maxPort] that nothing listens on now,
// starting from a random one so that concurrent test processes spread out.
func freePort() (int, error) {
	n := maxPort - minPort + 1
	start := rand.IntN(n)
	for i := range n {
		port := minPort + (start+i)%n
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", minPort, maxPort)
}

// portAnswers reports whether something accepts connections on addr.
func portAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// lookPath finds name on PATH or at one of the fallback paths.
func lookPath(name string, fallbacks ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, p := range fallbacks {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, strings.Join(fallbacks, ", "))
}

// postgresBinDir finds the directory holding initdb, postgres and pg_isready.
func postgresBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres", "pg_isready"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Prefer the newest major version.
	best, bestVersion := "", -1
	for _, dir := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err == nil && v > bestVersion && has(dir) {
			best, bestVersion = dir, v
		}
	}
	if best == "" {
		return "", errors.New("initdb not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install the postgresql package")
	}
	return best, nil
}
