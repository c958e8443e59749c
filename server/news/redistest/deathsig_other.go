//go:build !linux

package redistest

import "syscall"

// dieWithParent is nil where there is no parent-death signal: Stop ends the server.
func dieWithParent() *syscall.SysProcAttr { return nil }
