//go:build unix

package javaissuer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server started through a script that runs it as a child (as kc.sh
// runs java) is stopped with the script: no process of the group is left.
func TestStopEndsChildren(t *testing.T) {
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	// The script serves HTTP with a child (python's http.server stands in
	// for java) and records the child's pid.
	script := filepath.Join(dir, "serve.sh")
	body := "#!/bin/sh\npython3 -m http.server --bind 127.0.0.1 " + strconv.Itoa(port) + " --directory " + dir + " >/dev/null 2>&1 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 to stand in for a server")
	}
	p, err := Start("test server", exec.Command(script), "http://127.0.0.1:"+strconv.Itoa(port)+"/", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	p.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(child, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the server's child %d outlived Stop", child)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if exited, _ := p.Exited(); !exited {
		t.Error("Exited() = false after Stop")
	}
}

// A server that fails at once is reported at once, with its output, not
// when the readiness wait gives up.
func TestStartReportsAnEarlyExit(t *testing.T) {
	began := time.Now()
	_, err := Start("failing server", exec.Command("/bin/sh", "-c", "echo no such option >&2; exit 3"), "http://127.0.0.1:1/", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "no such option") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Start = %v", err)
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("the exit was reported after %v", d)
	}
}
