package browsertest

import "syscall"

// processGroup puts a process in a group of its own, and kills it when the test binary
// dies without cleaning up (a panic, a timeout), so that no browser outlives its test.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(pgid int, sig syscall.Signal) {
	syscall.Kill(-pgid, sig) //nolint:errcheck // a group that has ended already is fine
}
