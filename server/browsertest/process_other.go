//go:build unix && !linux

package browsertest

import "syscall"

// processGroup puts a process in a group of its own (no parent-death signal outside Linux).
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func signalGroup(pgid int, sig syscall.Signal) {
	syscall.Kill(-pgid, sig) //nolint:errcheck // a group that has ended already is fine
}
