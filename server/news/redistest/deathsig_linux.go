package redistest

import "syscall"

// dieWithParent has the kernel kill redis-server when the test process ends, however it
// ends (a panic, a timeout, SIGKILL), so that none is left running. The signal follows
// the thread that started it, and Go ends a thread only when a goroutine locked to it
// returns, which these tests never do.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
