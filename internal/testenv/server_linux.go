//go:build linux

package testenv

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// owner is the user a server runs as when it is not the test's own.
type owner struct{ uid, gid int }

func platformSupported() error { return nil }

// postgresOwner returns the postgres user when the test runs as root
// (PostgreSQL refuses to run as root), and nil otherwise.
func postgresOwner() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user to run the server as: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &owner{uid: uid, gid: gid}, nil
}

// sysProcAttr runs a process as o (when not nil) and, for a server, in a
// process group of its own and killed when the thread that started it dies.
func sysProcAttr(o *owner, server bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if o != nil {
		a.Credential = &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}
	}
	if server {
		a.Setpgid = true
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}
