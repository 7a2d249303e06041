package javaissuer

import "syscall"

// sysProcAttr puts the server in a process group of its own, so that it
// can be stopped with its children, and so that the watchdog (see Start)
// can end them all.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
