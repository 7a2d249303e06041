package javaissuer

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Process is a running server: a Java program started by Start.
type Process struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.Closer
	output *Output
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// watchdog runs its arguments as a command in the background, in a
// process group of their own, and waits for them. Its standard input is a
// pipe from the test binary: when that closes, because Stop closed it or
// because the binary ended however it ended, the whole group gets
// SIGTERM. (A background job's standard input is /dev/null, hence fd 3;
// the watcher's output goes nowhere, so that the server's output ends
// when the server does.)
// Java servers started by scripts (Keycloak's kc.sh runs java as
// a child) would otherwise outlive a killed test binary.
const watchdog = `exec 3<&0
"$@" </dev/null 3<&- &
child=$!
(read -r _ <&3; kill -TERM 0) >/dev/null 2>&1 &
exec 3<&-
wait "$child"`

// Start starts cmd, whose output is kept (bounded) for Output, and waits
// until GET ready answers 200, the process exits, or timeout passes. The
// process and its children end when this process ends, even without Stop.
func Start(name string, cmd *exec.Cmd, ready string, timeout time.Duration) (*Process, error) {
	wrapped := exec.Command("/bin/sh", append([]string{"-c", watchdog, "sh", cmd.Path}, cmd.Args[1:]...)...)
	wrapped.Env, wrapped.Dir = cmd.Env, cmd.Dir
	p := &Process{name: name, cmd: wrapped, output: &Output{}, exited: make(chan struct{})}
	wrapped.Stdout, wrapped.Stderr = p.output, p.output
	wrapped.SysProcAttr = sysProcAttr()
	stdin, err := wrapped.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	if err := wrapped.Start(); err != nil {
		return nil, fmt.Errorf("%s: starting %s: %w", name, cmd.Path, err)
	}
	go func() {
		p.err = wrapped.Wait()
		close(p.exited)
	}()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.exited:
			p.Stop()
			return nil, fmt.Errorf("%s exited before it was ready (%v); its output:\n%s", name, p.err, p.output.Tail(60))
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s not ready at %s after %v; its output:\n%s", name, ready, timeout, p.output.Tail(60))
		}
	}
}

// Stop ends the process and its children: SIGTERM to the group, then
// SIGKILL after 20 seconds. It returns once the process has exited.
func (p *Process) Stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		killGroup(p.cmd.Process.Pid)
		<-p.exited
	}
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.err
	default:
		return false, nil
	}
}

// Output is what the process printed so far (the last lines of it).
func (p *Process) Output() *Output { return p.output }

// Run runs cmd (made with exec.CommandContext, to bound it) to its end,
// returning its combined output with the error.
func Run(cmd *exec.Cmd) (string, error) {
	var out Output
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return out.String(), nil
}

// Output collects a process's output, keeping at most the last 4 MiB.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxOutput = 4 << 20

func (o *Output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len()+len(b) > maxOutput {
		keep := o.buf.Bytes()[o.buf.Len()/2:]
		rest := append([]byte(nil), keep...)
		o.buf.Reset()
		o.buf.Write(rest)
	}
	return o.buf.Write(b)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Tail is the last n lines of the output.
func (o *Output) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(o.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
