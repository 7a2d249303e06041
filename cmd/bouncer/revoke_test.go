package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// startRedis runs Debian's redis-server on a free loopback port for the
// test and returns its URL; without it the test fails, saying so.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed (Debian: apt-get install redis-server); the tests need a real one")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := redis.ParseURL(url)
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url
}

// bouncerEnv runs the command with env as its environment.
func bouncerEnv(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errs strings.Builder
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errs, client: &http.Client{Timeout: 15 * time.Second}, getenv: func(k string) string { return env[k] }}
	code := 0
	if cmd, ok := commandNamed(args[0]); ok {
		code = cmd.run(context.Background(), c, args[1:])
	} else {
		t.Fatalf("no command %s", args[0])
	}
	return result{code, out.String(), errs.String()}
}

// A token revoked with bouncer revoke is refused by bouncer check with
// --revocations, which names the rule; tokens no rule covers pass.
func TestRevokeThenCheck(t *testing.T) {
	url := startRedis(t)
	env := map[string]string{"REDIS_URL": url}
	iss := newIssuer(t)
	byClient := iss.MustMint(t, map[string]any{"client_id": "billing"})
	byJTI := iss.MustMint(t, map[string]any{"jti": "leaked-jti"})
	bySubject := iss.MustMint(t, map[string]any{"sub": "user-7", "client_id": "web"})
	byHash := iss.MustMint(t, map[string]any{"client_id": "web"})
	fine := iss.MustMint(t, map[string]any{"client_id": "web"})

	r := bouncerEnv(t, env, "", "revoke", "client", "--issuer", iss.URL(), "--client", "billing", "--reason", "secret leaked")
	r.wants(t, exitOK, `revoked the tokens of client "billing" of `+iss.URL()+" issued before ", "in force in every replica until ")
	bouncerEnv(t, env, "", "revoke", "jti", "--issuer", iss.URL(), "--jti", "leaked-jti").wants(t, exitOK, `the token with jti "leaked-jti"`)
	bouncerEnv(t, env, "", "revoke", "subject", "--issuer", iss.URL(), "--subject", "user-7").wants(t, exitOK, `the tokens of subject "user-7"`)
	bouncerEnv(t, env, "Bearer "+byHash+"\n", "revoke", "token").wants(t, exitOK, "the token with SHA-256 "+bearer.TokenHash(byHash))

	list := bouncerEnv(t, env, "", "revoke", "list", "--json")
	list.wants(t, exitOK)
	var rules []bearer.Revocation
	if err := json.Unmarshal([]byte(list.stdout), &rules); err != nil || len(rules) != 4 {
		t.Fatalf("list: %v %s", err, list.stdout)
	}
	for _, r := range rules {
		if r.Source != "cli" || r.Expires.IsZero() {
			t.Errorf("rule %+v", r)
		}
		if r.Kind == bearer.RevokeToken && r.Expires.After(time.Now().Add(bearertest.DefaultTokenTTL+bearer.MaxLeeway+time.Minute)) {
			t.Errorf("the token's rule outlives the token: %v", r.Expires)
		}
	}
	bouncerEnv(t, env, "", "revoke", "list").wants(t, exitOK, "KIND", "client   "+iss.URL()+"  billing", "secret leaked")

	for name, tc := range map[string]struct {
		tok, rule string
	}{
		"client":  {byClient, "client billing of " + iss.URL() + " issued before"},
		"jti":     {byJTI, "jti leaked-jti of " + iss.URL()},
		"subject": {bySubject, "subject user-7 of"},
		"token":   {byHash, "token " + bearer.TokenHash(byHash)},
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncerEnv(t, env, tc.tok, checkArgs(iss, "--revocations")...)
			r.wants(t, exitRefused, "✗ refused (401 invalid_token, reason revoked): the token was revoked")
			r.wantStep(t, "revocation", "✗", "revoked by rule "+tc.rule, "by cli", "get a new")
			r.wantStep(t, "audience", "✓")
			r.wantStep(t, "scopes", "·")
		})
	}
	ok := bouncerEnv(t, env, fine, checkArgs(iss, "--revocations")...)
	ok.wants(t, exitOK, "✓ accepted")
	ok.wantStep(t, "revocation", "✓", "no rule of the 4 in force covers it")
	without := bouncerEnv(t, env, byClient, checkArgs(iss)...)
	without.wants(t, exitOK)
	without.wantStep(t, "revocation", "✓", "not asked")
}

func TestRevokeUsage(t *testing.T) {
	url := startRedis(t)
	env := map[string]string{"REDIS_URL": url}
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"nothing to revoke":           {env, []string{"revoke"}},
		"unknown kind":                {env, []string{"revoke", "everything", "--issuer", "https://iss"}},
		"a token on the command line": {env, []string{"revoke", "token", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}},
		"no Redis":                    {nil, []string{"revoke", "jti", "--issuer", "https://iss", "--jti", "x"}},
		"no issuer":                   {env, []string{"revoke", "client", "--client", "x"}},
		"no client":                   {env, []string{"revoke", "client", "--issuer", "https://iss"}},
		"a flag of another kind":      {env, []string{"revoke", "client", "--issuer", "https://iss", "--client", "x", "--jti", "y"}},
		"before in the future":        {env, []string{"revoke", "client", "--issuer", "https://iss", "--client", "x", "--before", time.Now().Add(time.Hour).Format(time.RFC3339)}},
		"before not a time":           {env, []string{"revoke", "subject", "--issuer", "https://iss", "--subject", "x", "--before", "yesterday"}},
		"before with jti":             {env, []string{"revoke", "jti", "--issuer", "https://iss", "--jti", "x", "--before", "2026-01-01T00:00:00Z"}},
		"token with issuer":           {env, []string{"revoke", "token", "--issuer", "https://iss"}},
		"bad Redis URL":               {nil, []string{"revoke", "jti", "--issuer", "https://iss", "--jti", "x", "--redis", "http://nope"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncerEnv(t, tc.env, "", tc.args...)
			if r.code != exitUsage || r.stderr == "" || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("empty stdin for token", func(t *testing.T) {
		r := bouncerEnv(t, env, "", "revoke", "token")
		if r.code != exitUsage || !strings.Contains(r.stderr, "no token on standard input") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// Redis that cannot be reached is exit code 3, for revoke and for check.
func TestRevokeRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "redis://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{"REDIS_URL": url}
	r := bouncerEnv(t, env, "", "revoke", "jti", "--issuer", "https://iss", "--jti", "x")
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "could not be shared") {
		t.Errorf("revoke: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := bouncerEnv(t, env, "", "revoke", "list"); r.code != exitUnavailable {
		t.Errorf("list: exit %d", r.code)
	}
	iss := newIssuer(t)
	if r := bouncerEnv(t, env, iss.MustMint(t, nil), checkArgs(iss, "--revocations")...); r.code != exitUnavailable {
		t.Errorf("check: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestRevokeHelp(t *testing.T) {
	r := bouncer(t, "", "help", "revoke")
	r.wants(t, exitOK, "bouncer revoke client --issuer URL --client ID", "-redis URL", "exit 0 when done, 3 when Redis cannot be reached")
	o := bouncer(t, "", "help")
	o.wants(t, exitOK, "revoke    take tokens back")
}
