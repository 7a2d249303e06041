package javaissuer

import (
	"os"
	"syscall"
)

// The servers are started through /bin/sh (see Start), which Windows
// lacks: these only let the package build there.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
