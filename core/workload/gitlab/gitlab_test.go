package gitlab_test

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
	"github.com/bouncer-go/bouncer/core/workload/gitlab"
)

var bg = context.Background()

// newVerifier stands a bearertest issuer in for a GitLab instance.
func newVerifier(t *testing.T, cfg gitlab.Config) (*bearertest.Issuer, *bearer.Verifier) {
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

func job(t *testing.T, iss *bearertest.Issuer, project, id string, set ...map[string]any) string {
	t.Helper()
	ns := project[:strings.LastIndex(project, "/")]
	claims := map[string]any{
		"aud": "orders-api", "client_id": nil, "sub": "project_path:" + project + ":ref_type:branch:ref:main",
		"project_path": project, "project_id": id, "namespace_path": ns, "namespace_id": "72",
		"ref": "main", "ref_type": "branch", "ref_path": "refs/heads/main", "ref_protected": "true",
		"pipeline_source": "push", "runner_id": 1,
	}
	for _, s := range set {
		for n, v := range s {
			claims[n] = v
		}
	}
	return iss.MustMint(t, claims, bearertest.WithHeader("typ", "JWT"))
}

func TestRecordedShapes(t *testing.T) {
	for _, fx := range tokenfixture.Load(t, "gitlab-*.json") {
		t.Run(fx.Name, func(t *testing.T) {
			var want struct {
				ClientID             string `json:"client_id"`
				ProjectPath          string `json:"project_path"`
				ProjectID            string `json:"project_id"`
				NamespacePath        string `json:"namespace_path"`
				NamespaceID          string `json:"namespace_id"`
				Ref                  string `json:"ref"`
				RefType              string `json:"ref_type"`
				RefPath              string `json:"ref_path"`
				RefProtected         bool   `json:"ref_protected"`
				Environment          string `json:"environment"`
				EnvironmentProtected bool   `json:"environment_protected"`
				PipelineSource       string `json:"pipeline_source"`
			}
			fx.Decode(t, &want)
			iss, v := newVerifier(t, gitlab.Config{
				Audiences: []string{"https://vault.example.com"},
				Projects:  []gitlab.Project{{Path: want.ProjectPath, ID: want.ProjectID}},
			})
			c, err := v.Verify(bg, fx.Mint(t, iss, time.Now(), map[string]any{"iss": iss.URL()}))
			if err != nil {
				t.Fatal(err)
			}
			g, err := gitlab.ClaimsOf(c)
			if err != nil {
				t.Fatal(err)
			}
			got := gitlabView{c.ClientID, g.ProjectPath, g.ProjectID, g.NamespacePath, g.NamespaceID, g.Ref, g.RefType, g.RefPath, bool(g.RefProtected), g.Environment, bool(g.EnvironmentProtected), g.PipelineSource}
			exp := gitlabView{want.ClientID, want.ProjectPath, want.ProjectID, want.NamespacePath, want.NamespaceID, want.Ref, want.RefType, want.RefPath, want.RefProtected, want.Environment, want.EnvironmentProtected, want.PipelineSource}
			if got != exp {
				t.Errorf("read %+v; want %+v", got, exp)
			}
			if err := gitlab.RequireRef(want.RefPath).Authorize(c); err != nil {
				t.Error(err)
			}
			if err := gitlab.RequireProtectedRef().Authorize(c); (err == nil) != want.RefProtected {
				t.Errorf("RequireProtectedRef = %v for ref_protected %v", err, want.RefProtected)
			}
		})
	}
}

type gitlabView struct {
	ClientID, ProjectPath, ProjectID, NamespacePath, NamespaceID, Ref, RefType, RefPath string
	RefProtected                                                                        bool
	Environment                                                                         string
	EnvironmentProtected                                                                bool
	PipelineSource                                                                      string
}

func TestProjectPinned(t *testing.T) {
	iss, v := newVerifier(t, gitlab.Config{
		Projects:   []gitlab.Project{{Path: "my-group/my-project", ID: "20"}, {Path: "my-group/tools"}},
		Namespaces: []gitlab.Namespace{{Path: "platform", ID: "72"}},
	})
	for name, tok := range map[string]string{
		"pinned by path and id": job(t, iss, "my-group/my-project", "20"),
		"pinned by path":        job(t, iss, "my-group/tools", "21"),
		"in a namespace":        job(t, iss, "platform/anything", "30"),
	} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, tok := range map[string]string{
		"another project":          job(t, iss, "my-group/other", "22"),
		"a fork (its own path)":    job(t, iss, "mallory/my-project", "666", map[string]any{"pipeline_source": "merge_request_event"}),
		"same path, another id":    job(t, iss, "my-group/my-project", "999"),
		"case differs":             job(t, iss, "My-Group/my-project", "20"),
		"a subgroup of namespace":  job(t, iss, "platform/sub/x", "31", map[string]any{"namespace_path": "platform/sub"}),
		"namespace another id":     job(t, iss, "platform/anything", "30", map[string]any{"namespace_id": "73"}),
		"namespace disagreeing":    job(t, iss, "mallory/x", "1", map[string]any{"namespace_path": "platform"}),
		"no project":               job(t, iss, "my-group/my-project", "20", map[string]any{"project_path": nil}),
		"ref_protected not a bool": job(t, iss, "my-group/my-project", "20", map[string]any{"ref_protected": "yes"}),
	} {
		_, err := v.Verify(bg, tok)
		var e *bearer.Error
		if !errors.Is(err, bearer.ErrClaim) && !errors.Is(err, bearer.ErrMalformed) || !errors.As(err, &e) || e.StatusCode() != 401 {
			t.Errorf("%s: err = %v; want a 401", name, err)
		}
	}
}

func TestPolicies(t *testing.T) {
	iss, v := newVerifier(t, gitlab.Config{Namespaces: []gitlab.Namespace{{Path: "my-group"}}})
	claims := func(set map[string]any) *bearer.Claims {
		c, err := v.Verify(bg, job(t, iss, "my-group/my-project", "20", set))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	main := claims(nil)
	feature := claims(map[string]any{"ref": "feature", "ref_path": "refs/heads/feature", "ref_protected": false})
	tag := claims(map[string]any{"ref": "main", "ref_type": "tag", "ref_path": "refs/tags/main", "environment": "production"})
	old := claims(map[string]any{"ref_path": nil, "ref_protected": true}) // before GitLab 16.0
	for _, c := range []struct {
		name string
		p    bearer.Policy
		c    *bearer.Claims
		want bool
	}{
		{"project", gitlab.RequireProject("my-group/my-project"), main, true},
		{"another project", gitlab.RequireProject("my-group/other"), main, false},
		{"ref", gitlab.RequireRef("refs/heads/main"), main, true},
		{"bare ref", gitlab.RequireRef("main"), main, false},
		{"a tag named like the branch", gitlab.RequireRef("refs/heads/main"), tag, false},
		{"ref without ref_path", gitlab.RequireRef("refs/heads/main"), old, true},
		{"protected", gitlab.RequireProtectedRef(), main, true},
		{"protected as JSON true", gitlab.RequireProtectedRef(), old, true},
		{"unprotected", gitlab.RequireProtectedRef(), feature, false},
		{"environment", gitlab.RequireEnvironment("production"), tag, true},
		{"no environment", gitlab.RequireEnvironment("production"), main, false},
		{"claims by hand", gitlab.RequireProject("my-group/my-project"), &bearer.Claims{}, false},
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

func TestConfigErrors(t *testing.T) {
	ok := gitlab.Config{Issuer: "https://gitlab.com", Audiences: []string{"orders-api"}, Projects: []gitlab.Project{{Path: "my-group/my-project"}}}
	if _, err := ok.Bearer(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*gitlab.Config){
		"no issuer":                func(c *gitlab.Config) { c.Issuer = "" },
		"http issuer":              func(c *gitlab.Config) { c.Issuer = "http://gitlab.example.com" },
		"no project nor namespace": func(c *gitlab.Config) { c.Projects = nil },
		"project without group":    func(c *gitlab.Config) { c.Projects = []gitlab.Project{{Path: "my-project"}} },
		"project with //":          func(c *gitlab.Config) { c.Projects = []gitlab.Project{{Path: "a//b"}} },
		"empty namespace":          func(c *gitlab.Config) { c.Projects, c.Namespaces = nil, []gitlab.Namespace{{}} },
		"no audience":              func(c *gitlab.Config) { c.Audiences = nil },
		"the instance as audience": func(c *gitlab.Config) { c.Audiences = []string{"https://gitlab.com/"} },
	} {
		c := ok
		edit(&c)
		if _, err := c.Bearer(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
