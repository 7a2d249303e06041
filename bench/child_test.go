package bench

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The server under load is a child process: the test binary started again
// with serverEnv naming the front door. It pins itself to one core, runs
// with GOMAXPROCS=1, prints its address and a token, and then takes
// commands on stdin until stdin closes:
//
//	allocs          print the heap objects allocated so far
//	profile DIR     sample allocations finely, start a CPU profile in
//	                DIR/cpu.pprof, and write the allocations so far to
//	                DIR/allocs-base.pprof
//	stop            stop it, write DIR/allocs.pprof, and sample
//	                allocations as Go does by default again
const (
	serverEnv = "BOUNCER_BENCH_SERVE"
	cpuEnv    = "BOUNCER_BENCH_CPU"  // the core to pin the server to
	jktEnv    = "BOUNCER_BENCH_DPOP" // a DPoP key's thumbprint: serve DPoP, bind the token to it
)

// profileRate is runtime.MemProfileRate while a profile is taken: fine
// enough to see every allocation site, and far too costly for the rounds,
// which run with Go's default.
const profileRate = 4096

// dpopURL is the origin DPoP proofs name.
const dpopURL = "https://api.example.com"

func TestMain(m *testing.M) {
	if name := os.Getenv(serverEnv); name != "" {
		os.Exit(childServe(name))
	}
	os.Exit(m.Run())
}

func childServe(name string) int {
	if cpu, err := strconv.Atoi(os.Getenv(cpuEnv)); err == nil {
		if err := pinProcess(cpu); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fd, ok := findFrontDoor(name)
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown front door", name)
		return 1
	}
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer iss.Close()
	cfg := bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)}
	claims := map[string]any{"scope": scope + " customer.read", "azp": "country-client", "exp": time.Now().Add(time.Hour).Unix()}
	if jkt := os.Getenv(jktEnv); jkt != "" {
		// Proofs are made before the rounds: they must stay within the
		// window, and every one of them fit in the replay store.
		cfg.DPoP = &bearer.DPoP{PublicURL: dpopURL, Window: time.Hour, ReplayCapacity: 1 << 26}
		claims["cnf"] = map[string]any{"jkt": jkt}
	}
	v, err := bearer.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer v.Close()
	tok, err := iss.Mint(claims)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop := fd.serve(l, v)
	defer stop()
	fmt.Printf("%s %s\n", l.Addr(), tok)
	control(os.Stdin, os.Stdout)
	return 0
}

// control runs the commands of the parent until in closes.
func control(in io.Reader, out io.Writer) {
	sc := bufio.NewScanner(in)
	var dir string
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		var err error
		switch cmd {
		case "allocs":
			s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
			metrics.Read(s)
			fmt.Fprintln(out, s[0].Value.Uint64())
			continue
		case "profile":
			dir = arg
			runtime.MemProfileRate = profileRate
			if err = writeProfile("allocs", filepath.Join(dir, "allocs-base.pprof")); err == nil {
				var f *os.File
				if f, err = os.Create(filepath.Join(dir, "cpu.pprof")); err == nil {
					err = pprof.StartCPUProfile(f)
				}
			}
		case "stop":
			pprof.StopCPUProfile()
			err = writeProfile("allocs", filepath.Join(dir, "allocs.pprof"))
			runtime.MemProfileRate = defaultMemProfileRate
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			fmt.Fprintln(out, "error:", err)
		} else {
			fmt.Fprintln(out, "ok")
		}
	}
}

// defaultMemProfileRate is runtime.MemProfileRate as Go starts.
var defaultMemProfileRate = runtime.MemProfileRate

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup(name).WriteTo(f, 0)
}

// server is a running child.
type server struct {
	pid   int
	addr  string
	token string
	in    io.WriteCloser
	out   *bufio.Reader
}

// startServer runs the child serving front door name on cpu (-1: not
// pinned), with the extra environment env.
func startServer(tb testing.TB, name string, cpu int, env ...string) *server {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"="+name, "GOMAXPROCS=1", cpuEnv+"="+strconv.Itoa(cpu))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	s := &server{pid: cmd.Process.Pid, in: in, out: bufio.NewReader(stdout)}
	line, err := s.out.ReadString('\n')
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	s.addr, s.token, _ = strings.Cut(strings.TrimSpace(line), " ")
	return s
}

// command sends a command to the child and returns its answer.
func (s *server) command(cmd string) (string, error) {
	if _, err := fmt.Fprintln(s.in, cmd); err != nil {
		return "", err
	}
	line, err := s.out.ReadString('\n')
	line = strings.TrimSpace(line)
	if err == nil && strings.HasPrefix(line, "error: ") {
		err = fmt.Errorf("%s: %s", cmd, strings.TrimPrefix(line, "error: "))
	}
	return line, err
}

// allocs is the number of heap objects the server allocated so far.
func (s *server) allocs() (uint64, error) {
	line, err := s.command("allocs")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(line, 10, 64)
}
