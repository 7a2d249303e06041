package githubactions_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/internal/tokenfixture"
	"github.com/bouncer-go/bouncer/core/workload/githubactions"
)

var bg = context.Background()

// newVerifier stands a bearertest issuer in for GitHub's.
func newVerifier(t *testing.T, cfg githubactions.Config) (*bearertest.Issuer, *bearer.Verifier) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	cfg.Issuer = iss.URL()
	if cfg.Audiences == nil {
		cfg.Audiences = []string{"orders-api"}
	}
	bc, err := cfg.Bearer()
	if err != nil {
		t.Fatal(err)
	}
	bc.HTTPClient, bc.Logger = iss.Client(), slog.New(slog.DiscardHandler)
	v, err := bearer.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return iss, v
}

// job mints the token of a job of repo (owner/name, with ids).
func job(t *testing.T, iss *bearertest.Issuer, repo, repoID, ownerID string, set ...map[string]any) string {
	t.Helper()
	owner, _, _ := strings.Cut(repo, "/")
	claims := map[string]any{
		"aud": "orders-api", "client_id": nil, "sub": "repo:" + repo + ":ref:refs/heads/main",
		"repository": repo, "repository_id": repoID, "repository_owner": owner, "repository_owner_id": ownerID,
		"ref": "refs/heads/main", "ref_type": "branch", "event_name": "push",
		"job_workflow_ref": repo + "/.github/workflows/deploy.yml@refs/heads/main",
	}
	for _, s := range set {
		for n, v := range s {
			claims[n] = v
		}
	}
	return iss.MustMint(t, claims, bearertest.WithHeader("typ", "JWT"))
}

// The documented token shapes verify and read as documented.
func TestRecordedShapes(t *testing.T) {
	for _, fx := range tokenfixture.Load(t, "github-actions-*.json") {
		t.Run(fx.Name, func(t *testing.T) {
			var want struct {
				ClientID          string `json:"client_id"`
				Repository        string `json:"repository"`
				RepositoryID      string `json:"repository_id"`
				RepositoryOwner   string `json:"repository_owner"`
				RepositoryOwnerID string `json:"repository_owner_id"`
				Ref               string `json:"ref"`
				RefType           string `json:"ref_type"`
				Environment       string `json:"environment"`
				JobWorkflowRef    string `json:"job_workflow_ref"`
				EventName         string `json:"event_name"`
			}
			fx.Decode(t, &want)
			iss, v := newVerifier(t, githubactions.Config{
				Audiences:    []string{"orders-api"},
				Repositories: []githubactions.Repository{{Name: want.Repository, ID: want.RepositoryID}},
			})
			// The recorded aud is GitHub's default, which an API must not
			// accept: the job asks for this API's audience instead.
			c, err := v.Verify(bg, fx.Mint(t, iss, time.Now(), map[string]any{"iss": iss.URL(), "aud": "orders-api"}))
			if err != nil {
				t.Fatal(err)
			}
			g, err := githubactions.ClaimsOf(c)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{c.ClientID, g.Repository, g.RepositoryID, g.RepositoryOwner, g.RepositoryOwnerID, g.Ref, g.RefType, g.Environment, g.JobWorkflowRef, g.EventName}
			exp := []string{want.ClientID, want.Repository, want.RepositoryID, want.RepositoryOwner, want.RepositoryOwnerID, want.Ref, want.RefType, want.Environment, want.JobWorkflowRef, want.EventName}
			if strings.Join(got, "|") != strings.Join(exp, "|") {
				t.Errorf("read %q; want %q", got, exp)
			}
			for _, p := range []bearer.Policy{githubactions.RequireRepository(want.Repository), githubactions.RequireRef(want.Ref), githubactions.RequireJobWorkflowRef(want.JobWorkflowRef)} {
				if err := p.Authorize(c); err != nil {
					t.Error(err)
				}
			}
			if err := githubactions.RequireEnvironment("prod").Authorize(c); (err == nil) != (want.Environment == "prod") {
				t.Errorf("RequireEnvironment(prod) = %v with environment %q", err, want.Environment)
			}
		})
	}
}

// Only the pinned repositories' tokens are accepted: GitHub signs every
// repository's.
func TestRepositoryPinned(t *testing.T) {
	iss, v := newVerifier(t, githubactions.Config{
		Repositories: []githubactions.Repository{{Name: "octo-org/octo-repo", ID: "74"}, {Name: "octo-org/tools"}},
		Owners:       []githubactions.Owner{{Name: "friends", ID: "99"}},
	})
	accepted := map[string]string{
		"pinned by name and id": job(t, iss, "octo-org/octo-repo", "74", "65"),
		"case differs":          job(t, iss, "Octo-Org/Octo-Repo", "74", "65"),
		"pinned by name":        job(t, iss, "octo-org/tools", "75", "65"),
		"an owner's repository": job(t, iss, "friends/anything", "1000", "99"),
	}
	for name, tok := range accepted {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	refused := map[string]string{
		"another repository":             job(t, iss, "octo-org/other", "76", "65"),
		"a stranger's repository":        job(t, iss, "mallory/octo-repo", "666", "666"),
		"same name, another id":          job(t, iss, "octo-org/octo-repo", "999", "65"),
		"the owner's name, another id":   job(t, iss, "friends/anything", "1000", "100"),
		"owner disagreeing with repo":    job(t, iss, "mallory/x", "1", "99", map[string]any{"repository_owner": "friends"}),
		"no repository":                  job(t, iss, "octo-org/octo-repo", "74", "65", map[string]any{"repository": nil}),
		"repository not a string":        job(t, iss, "octo-org/octo-repo", "74", "65", map[string]any{"repository": 74}),
		"a look-alike (Kelvin sign)":     job(t, iss, "octo-org/tools", "75", "65", map[string]any{"repository": "octo-org/tool\u212a"}),
		"prefix of a pinned repository":  job(t, iss, "octo-org/octo-rep", "74", "65"),
		"a pinned repository's sub only": job(t, iss, "mallory/x", "1", "2", map[string]any{"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}),
	}
	for name, tok := range refused {
		_, err := v.Verify(bg, tok)
		var e *bearer.Error
		if !errors.Is(err, bearer.ErrClaim) && !errors.Is(err, bearer.ErrMalformed) || !errors.As(err, &e) || e.StatusCode() != 401 {
			t.Errorf("%s: err = %v; want a 401", name, err)
		}
	}
}

func TestPolicies(t *testing.T) {
	iss, v := newVerifier(t, githubactions.Config{Owners: []githubactions.Owner{{Name: "octo-org"}}})
	claims := func(set map[string]any) *bearer.Claims {
		c, err := v.Verify(bg, job(t, iss, "octo-org/octo-repo", "74", "65", set))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	main := claims(nil)
	prod := claims(map[string]any{"environment": "prod", "ref": "refs/tags/v1.0.0", "ref_type": "tag"})
	reusable := claims(map[string]any{"job_workflow_ref": "octo-org/octo-automation/.github/workflows/deploy.yml@refs/heads/main"})
	for _, c := range []struct {
		name string
		p    bearer.Policy
		c    *bearer.Claims
		want bool
	}{
		{"repository", githubactions.RequireRepository("octo-org/octo-repo"), main, true},
		{"another repository", githubactions.RequireRepository("octo-org/tools"), main, false},
		{"ref", githubactions.RequireRef("refs/heads/main"), main, true},
		{"ref shorthand", githubactions.RequireRef("main"), main, false},
		{"tag", githubactions.RequireRef("refs/heads/main"), prod, false},
		{"environment", githubactions.RequireEnvironment("prod"), prod, true},
		{"no environment", githubactions.RequireEnvironment("prod"), main, false},
		{"empty environment", githubactions.RequireEnvironment(""), main, false},
		{"environment case", githubactions.RequireEnvironment("Prod"), prod, false},
		{"reusable workflow", githubactions.RequireJobWorkflowRef("octo-org/octo-automation/.github/workflows/deploy.yml@refs/heads/main"), reusable, true},
		{"another ref of it", githubactions.RequireJobWorkflowRef("octo-org/octo-automation/.github/workflows/deploy.yml@refs/heads/dev"), reusable, false},
		{"claims by hand", githubactions.RequireRepository("octo-org/octo-repo"), &bearer.Claims{}, false},
	} {
		err := c.p.Authorize(c.c)
		if (err == nil) != c.want {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && bearer.AsError(err).StatusCode() != 403 {
			t.Errorf("%s: %v is not a 403", c.name, err)
		}
	}
}

// A configuration that pins nothing cannot be built.
func TestConfigErrors(t *testing.T) {
	ok := githubactions.Config{Audiences: []string{"orders-api"}, Repositories: []githubactions.Repository{{Name: "octo-org/octo-repo"}}}
	bc, err := ok.Bearer()
	if err != nil || bc.Issuer != githubactions.Issuer {
		t.Fatalf("a valid config: %q, %v", bc.Issuer, err)
	}
	for name, edit := range map[string]func(*githubactions.Config){
		"no repository nor owner":   func(c *githubactions.Config) { c.Repositories = nil },
		"empty repository":          func(c *githubactions.Config) { c.Repositories = []githubactions.Repository{{}} },
		"repository without owner":  func(c *githubactions.Config) { c.Repositories = []githubactions.Repository{{Name: "octo-repo"}} },
		"repository with two slash": func(c *githubactions.Config) { c.Repositories = []githubactions.Repository{{Name: "a/b/c"}} },
		"empty owner":               func(c *githubactions.Config) { c.Repositories, c.Owners = nil, []githubactions.Owner{{}} },
		"no audience":               func(c *githubactions.Config) { c.Audiences = nil },
		"GitHub's default audience": func(c *githubactions.Config) { c.Audiences = []string{"https://github.com/octo-org"} },
		"GHES default audience": func(c *githubactions.Config) {
			c.Issuer, c.Audiences = "https://ghe.example.com/_services/token", []string{"https://ghe.example.com/octo-org"}
		},
		"http issuer": func(c *githubactions.Config) { c.Issuer = "http://token.actions.githubusercontent.com" },
	} {
		c := ok
		edit(&c)
		if _, err := c.Bearer(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
