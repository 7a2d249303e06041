// Command consumer proves that the published modules of this repository
// can be used as a user gets them, before they are tagged: it writes every
// published module at the version the modules require each other at (or
// -version) into a module proxy on the file system, made from the working
// tree with golang.org/x/mod/zip; then, for each program under testdata (a
// user's program per adapter, doing what the README shows), it makes a
// fresh module outside the repository, with GOWORK=off, GOFLAGS=-mod=mod
// and no replace directive, runs `go get` of the modules the program
// imports at that version (the adapters, as the README says; core comes
// with them), builds it, runs it against an in-process issuer
// (core/bearertest) and sends it one request that must be accepted and one
// that must be refused. It also runs `go install` of every published
// command at that version, and runs it once.
//
// Modules that are not this repository's come from the module cache (as
// a file proxy), then from proxy.golang.org; their checksums from the
// go.sum files of the repository's modules, so that no test needs the
// network once the modules are downloaded (.ci/run does that first).
// Everything goes into a module cache of the consumers' own (-modcache;
// one per working tree, kept between runs), emptied of the repository's
// modules first: no candidate ever reaches the cache the go command
// otherwise uses, where it would stand for the real release, and two
// working trees never see each other's. Builds use -trimpath, so that
// what was compiled once is found in the build cache whatever module
// cache it came from.
//
// Before anything is built, the README's Install section and its Go code
// are checked against the programs: the complete program it shows is one
// of them, and every snippet naming an adapter is found, line by line, in
// one of them.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/tools/internal/modproxy"
	"github.com/bouncer-go/bouncer/tools/internal/workspace"
)

func main() {
	root := flag.String("root", ".", "the repository's root, where go.work is")
	version := flag.String("version", "", "the candidate version (default: the one the modules require each other at)")
	modcache := flag.String("modcache", "", "the module cache for the consumers (default: one for this working tree under the user's cache directory)")
	keep := flag.Bool("keep", false, "keep the proxy and the consumer modules, and print where")
	jobs := flag.Int("j", runtime.NumCPU(), "how many programs to build at once")
	flag.Parse()
	start := time.Now()
	if err := run(*root, *version, *modcache, *keep, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
	fmt.Printf("consumer: passed in %s\n", time.Since(start).Round(100*time.Millisecond))
}

func run(root, version, modcache string, keep bool, jobs int) error {
	w, err := workspace.Load(root)
	if err != nil {
		return err
	}
	if version == "" {
		if version, err = w.Version(); err != nil {
			return err
		}
	}
	testdata := filepath.Join(w.Root, "tools", "consumer", "testdata")
	sources, err := readPrograms(testdata)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile(filepath.Join(w.Root, "README.md"))
	if err != nil {
		return err
	}
	if problems := checkREADME(readme, w, sources); len(problems) > 0 {
		return errors.New("README.md and the consumer programs differ:\n  " + strings.Join(problems, "\n  "))
	}
	progs, err := programs(w, testdata)
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "bouncer-consumer-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("consumer: working in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	proxy := filepath.Join(tmp, "proxy")
	if err := modproxy.Write(proxy, w, w.Published(), version, time.Now()); err != nil {
		return err
	}
	var names []string
	for _, m := range w.Published() {
		names = append(names, strings.TrimPrefix(m.Path, w.RepoPath+"/"))
	}
	fmt.Printf("consumer: %s at %s: %s\n", w.RepoPath, version, strings.Join(names, ", "))

	env, err := goEnv(w, proxy, modcache, filepath.Join(tmp, "bin"))
	if err != nil {
		return err
	}
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience(audience),
		bearertest.WithClient(clientID, clientSecret, scope),
	)
	if err != nil {
		return err
	}
	defer iss.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := &consumer{w: w, version: version, env: env, iss: iss, tmp: tmp}
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		slots    = make(chan struct{}, jobs)
	)
	report := func(name string, began time.Time, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", name, err))
			fmt.Printf("consumer: FAIL %s (%s)\n", name, time.Since(began).Round(100*time.Millisecond))
			return
		}
		fmt.Printf("consumer: ok   %s (%s)\n", name, time.Since(began).Round(100*time.Millisecond))
	}
	for _, p := range progs {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			began := time.Now()
			report(p.name, began, c.program(ctx, p))
		})
	}
	for _, m := range w.Published() {
		if !m.Commands {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			began := time.Now()
			report("go install "+m.Path+"@"+version, began, c.command(ctx, m))
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		slices.Sort(failures)
		return fmt.Errorf("%d of the consumers failed:\n\n%s", len(failures), strings.Join(failures, "\n\n"))
	}
	return nil
}

// program is one user's program: a directory of testdata, made a module.
type program struct {
	name    string   // the directory's name
	dir     string   // the directory
	imports []string // the repository's modules it imports
	kind    string   // how it is called: "http", "grpc", "connect", "mcp", "spiffe" or "gateway"
}

// programs reads testdata's directories, and checks that every published
// library module is imported by one of them.
func programs(w *workspace.Workspace, testdata string) ([]program, error) {
	entries, err := os.ReadDir(testdata)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var out []program
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := program{name: e.Name(), dir: filepath.Join(testdata, e.Name()), kind: "http"}
		imports, err := importsBelow(p.dir)
		if err != nil {
			return nil, err
		}
		mods := map[string]bool{}
		for _, imp := range imports {
			m := w.ModuleOf(imp)
			if m == nil {
				continue
			}
			if !m.Published {
				return nil, fmt.Errorf("%s imports %s, which is not published", p.name, imp)
			}
			mods[m.Path] = true
			switch m.Base() {
			case "bearergrpc":
				p.kind = "grpc"
			case "bearermcp":
				p.kind = "mcp"
			case "bearerconnect":
				p.kind = "connect"
			case "bearerspiffe":
				p.kind = "spiffe"
			case "gateway":
				p.kind = "gateway"
			}
		}
		for m := range mods {
			p.imports = append(p.imports, m)
			used[m] = true
		}
		slices.Sort(p.imports)
		out = append(out, p)
	}
	var missing []string
	for _, m := range w.Published() {
		if !m.Commands && !used[m.Path] {
			missing = append(missing, m.Path)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no program in %s imports %s: add one that uses it as the README shows", testdata, strings.Join(missing, ", "))
	}
	return out, nil
}

func importsBelow(dir string) ([]string, error) {
	var imports []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, s := range f.Imports {
			imports = append(imports, strings.Trim(s.Path.Value, `"`))
		}
		return nil
	})
	return imports, err
}

// goEnv is the environment of every go command a consumer runs: outside
// any workspace, with the candidate proxy first, the module cache's
// downloads (a proxy too) next and the public proxy last.
func goEnv(w *workspace.Workspace, proxy, modcache, bin string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	shared := strings.TrimSpace(string(out))
	if modcache == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(w.Root))
		modcache = filepath.Join(cache, "bouncer-consumer", hex.EncodeToString(sum[:6]), "mod")
	}
	if modcache, err = filepath.Abs(modcache); err != nil {
		return nil, err
	}
	if modcache == shared {
		return nil, errors.New("-modcache must not be the module cache the go command uses otherwise")
	}
	// Forget the candidates of an earlier run: the same version, other bytes.
	for _, d := range []string{filepath.Join(modcache, filepath.FromSlash(w.RepoPath)), filepath.Join(modcache, "cache", "download", filepath.FromSlash(w.RepoPath))} {
		if err := removeAll(d); err != nil {
			return nil, err
		}
	}
	// The go command indexes the packages of the module cache once per
	// directory, trusting that a module's directory never changes (the
	// index lives in the build cache, keyed by the path alone). A
	// candidate does change between runs at one version: with the index,
	// a build read the imports a file had in an earlier run. Without it,
	// the files are read each time.
	godebug := "goindex=0"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GODEBUG":
			continue
		case "GOFLAGS", "GOWORK", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOMODCACHE", "GOBIN", "GOTOOLCHAIN", "GOINSECURE":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GOWORK=off",
		"GOFLAGS=-mod=mod -trimpath",
		"GOTOOLCHAIN=local",
		"GOPROXY="+fileURL(proxy)+","+fileURL(filepath.Join(shared, "cache", "download"))+",https://proxy.golang.org",
		"GONOSUMDB="+w.RepoPath,
		"GOMODCACHE="+modcache,
		"GOBIN="+bin,
		"GODEBUG="+godebug,
	), nil
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

// removeAll removes dir, made writable first as the module cache is not.
func removeAll(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// consumer holds what every consumer shares.
type consumer struct {
	w       *workspace.Workspace
	version string
	env     []string
	iss     *bearertest.Issuer
	tmp     string
}

// goCmd runs go in dir with the consumers' environment.
func (c *consumer) goCmd(ctx context.Context, dir string, args ...string) error {
	return c.goCmdEnv(ctx, dir, nil, args...)
}

// goCmdEnv runs go in dir with the consumers' environment and env.
func (c *consumer) goCmdEnv(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, append(slices.Clone(c.env), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// program makes p a module of its own, gets the repository's modules it
// imports at the candidate version, builds it and calls it.
func (c *consumer) program(ctx context.Context, p program) error {
	dir := filepath.Join(c.tmp, "consumers", p.name)
	if err := os.CopyFS(dir, os.DirFS(p.dir)); err != nil {
		return err
	}
	if p.kind == "grpc" || p.kind == "connect" {
		// The user's own code generated from the API's .proto file.
		if err := copyGenerated(filepath.Join(c.w.Root, "examples", "grpc", "countrypb"), filepath.Join(dir, "countrypb")); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/countryapi\n\ngo 1.25.0\n"), 0o644); err != nil {
		return err
	}
	// Checksums of the modules that are not the repository's, as the
	// repository's modules have them, so that nothing asks the checksum
	// database: a user's go command would, and get the same.
	if err := c.seedSums(dir, p.imports); err != nil {
		return err
	}
	// Get what the README tells a user to get, the adapters: the modules
	// they require (core) come at the version the adapters' go.mod files
	// name, which is what must resolve.
	get := []string{"get"}
	for _, m := range c.toGet(p.imports) {
		get = append(get, m+"@"+c.version)
	}
	if err := c.goCmd(ctx, dir, get...); err != nil {
		return err
	}
	if err := c.onlyWhatItImports(ctx, dir, p); err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin") + string(filepath.Separator)
	if err := c.goCmd(ctx, dir, "build", "-o", bin, "./..."); err != nil {
		return err
	}
	switch p.kind {
	case "grpc":
		return c.callGRPC(ctx, dir, filepath.Join(bin, "countryapi"), filepath.Join(bin, "client"))
	case "mcp":
		return c.callMCP(ctx, filepath.Join(bin, "countryapi"))
	case "connect":
		return c.callConnect(ctx, filepath.Join(bin, "countryapi"))
	case "spiffe":
		return c.callSPIFFE(ctx, filepath.Join(bin, "countryapi"))
	case "gateway":
		return c.callGateway(ctx, filepath.Join(bin, "countryapi"))
	}
	token, err := c.iss.Mint(map[string]any{"scope": scope, "client_id": clientID})
	if err != nil {
		return err
	}
	return c.callHTTP(ctx, filepath.Join(bin, "countryapi"), token, "ISSUER_URL="+c.iss.URL())
}

// toGet is mods less those that another of mods requires, directly or
// not.
func (c *consumer) toGet(mods []string) []string {
	required := map[string]bool{}
	var walk func(string)
	walk = func(path string) {
		for _, r := range c.w.Module(path).File.Require {
			if c.w.Internal(r.Mod.Path) && !required[r.Mod.Path] {
				required[r.Mod.Path] = true
				walk(r.Mod.Path)
			}
		}
	}
	for _, m := range mods {
		walk(m)
	}
	var out []string
	for _, m := range mods {
		if !required[m] {
			out = append(out, m)
		}
	}
	return out
}

// onlyWhatItImports checks that a consumer's build list holds, of this
// repository, only the modules it imports and what they require: a user
// of one adapter downloads no other.
func (c *consumer) onlyWhatItImports(ctx context.Context, dir string, p program) error {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Version}}", "all")
	cmd.Dir, cmd.Env = dir, c.env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -m all: %w", err)
	}
	allowed := map[string]bool{}
	var add func(string)
	add = func(path string) {
		if allowed[path] {
			return
		}
		allowed[path] = true
		for _, r := range c.w.Module(path).File.Require {
			if c.w.Internal(r.Mod.Path) {
				add(r.Mod.Path)
			}
		}
	}
	for _, m := range p.imports {
		add(m)
	}
	for line := range strings.Lines(string(out)) {
		path, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !c.w.Internal(path) {
			continue
		}
		if !allowed[path] {
			return fmt.Errorf("the build list holds %s, which the program does not need", path)
		}
		if v != c.version {
			return fmt.Errorf("the build list holds %s %s, not %s", path, v, c.version)
		}
	}
	return nil
}

// seedSums writes to dir/go.sum the lines of the go.sum files of the
// modules mods and the repository's modules they require.
func (c *consumer) seedSums(dir string, mods []string) error {
	lines := map[string]bool{}
	seen := map[string]bool{}
	var add func(string) error
	add = func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		m := c.w.Module(path)
		data, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for l := range strings.Lines(string(data)) {
			lines[l] = true
		}
		for _, r := range m.File.Require {
			if c.w.Internal(r.Mod.Path) {
				if err := add(r.Mod.Path); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, m := range mods {
		if err := add(m); err != nil {
			return err
		}
	}
	sum := slices.Sorted(func(yield func(string) bool) {
		for l := range lines {
			if !yield(l) {
				return
			}
		}
	})
	return os.WriteFile(filepath.Join(dir, "go.sum"), []byte(strings.Join(sum, "")), 0o644)
}

// copyGenerated copies the generated Go files of from (*.pb.go, and
// Connect's *.connect.go below it) into to, importing each other by the
// consumer's path: what protoc-gen-go and protoc-gen-connect-go write for
// a user whose go_package is example.com/countryapi/countrypb.
func copyGenerated(from, to string) error {
	const repoPkg, userPkg = "github.com/bouncer-go/bouncer/examples/grpc/countrypb", "example.com/countryapi/countrypb"
	n := 0
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".pb.go") || strings.HasSuffix(p, ".connect.go")) {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte(`"`+repoPkg), []byte(`"`+userPkg))
		if err := os.MkdirAll(filepath.Join(to, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		n++
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("no generated code in %s", from)
	}
	return err
}

// command installs m's command at the candidate version and runs it: its
// check of a token of the in-process issuer must accept it.
func (c *consumer) command(ctx context.Context, m *workspace.Module) error {
	dir := filepath.Join(c.tmp, "install")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// go install pkg@version has no go.sum to take the checksums of the
	// modules that are not the repository's from, and would ask the
	// checksum database, a network service, for them. They come from the
	// module cache, verified against the repository's go.sum files when
	// they were downloaded into it, so the database is not asked.
	if err := c.goCmdEnv(ctx, dir, []string{"GOSUMDB=off"}, "install", m.Path+"@"+c.version); err != nil {
		return err
	}
	token, err := c.iss.Mint(map[string]any{"scope": scope, "client_id": clientID})
	if err != nil {
		return err
	}
	bin := filepath.Join(c.tmp, "bin", filepath.Base(m.Path))
	cmd := exec.CommandContext(ctx, bin, "check", "--issuer", c.iss.URL(), "--audience", audience, "--scope", scope, token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s check: %v\n%s", filepath.Base(m.Path), err, out)
	}
	if !bytes.Contains(out, []byte("accepted")) {
		return fmt.Errorf("%s check did not say accepted:\n%s", filepath.Base(m.Path), out)
	}
	return nil
}
