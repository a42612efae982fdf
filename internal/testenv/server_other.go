//go:build !linux

package testenv

import (
	"errors"
	"syscall"
)

// owner is the user a server runs as when it is not the test's own.
type owner struct{ uid, gid int }

var errPlatform = errors.New("private test servers are supported on Linux only")

func platformSupported() error { return errPlatform }

func postgresOwner() (*owner, error) { return nil, errPlatform }

func sysProcAttr(*owner, bool) *syscall.SysProcAttr { return nil }
