package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Project names a project whose jobs may call the API.
type Project struct {
	// Path is the project's full path, as project_path spells it:
	// "my-group/my-project", "my-group/sub/my-project".
	Path string
	// ID, when set, is the project's id (project_id, e.g. "20"), which a
	// project keeps when moved and a new project of the same path never
	// has.
	ID string
}

// Namespace names a group or user namespace every project directly in
// which may call the API: namespace_path is the project's own namespace,
// so a subgroup is a namespace of its own, to be named on its own.
type Namespace struct {
	Path string // namespace_path: "my-group", "my-group/sub"
	ID   string // namespace_id, when set
}

// Config says which jobs' ID tokens an API accepts.
type Config struct {
	// Issuer is the GitLab instance's URL, as the tokens' iss has it:
	// "https://gitlab.com", "https://gitlab.example.com". Required.
	Issuer string

	// Audiences this API answers to: the aud the job declares,
	//
	//	id_tokens:
	//	  ORDERS_TOKEN:
	//	    aud: orders-api
	//
	// Required. The instance's URL, GitLab's default audience, is
	// refused: every service that takes the default would take the same
	// tokens, and could replay them here.
	Audiences []string

	// Projects and Namespaces whose jobs may call the API; at least one
	// is required. A token of any other project is refused.
	Projects   []Project
	Namespaces []Namespace
}

// Bearer returns the bearer.Config for c: the instance discovered as any
// issuer, the project pinned, Claims.ClientID the project's path. Set the
// Verifier's other fields (Logger, Cache…) on it before bearer.New;
// append to its Validators rather than replace them.
func (c Config) Bearer() (bearer.Config, error) {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return bearer.Config{}, fmt.Errorf("gitlab: Config.Issuer %q is not the https URL of a GitLab instance", c.Issuer)
	}
	if len(c.Projects) == 0 && len(c.Namespaces) == 0 {
		return bearer.Config{}, errors.New("gitlab: name the Projects (or Namespaces) whose jobs may call this API: the instance signs the tokens of every project it hosts")
	}
	for _, p := range c.Projects {
		if !validPath(p.Path) || !strings.Contains(p.Path, "/") {
			return bearer.Config{}, fmt.Errorf("gitlab: Project %q is not a project's full path (group/project)", p.Path)
		}
	}
	for _, n := range c.Namespaces {
		if !validPath(n.Path) {
			return bearer.Config{}, fmt.Errorf("gitlab: Namespace %q is not a namespace's path", n.Path)
		}
	}
	if len(c.Audiences) == 0 || slices.Contains(c.Audiences, "") {
		return bearer.Config{}, errors.New("gitlab: Config.Audiences is required, without an empty one: the aud the job's id_tokens declare")
	}
	instance := strings.TrimSuffix(c.Issuer, "/")
	for _, a := range c.Audiences {
		if strings.TrimSuffix(a, "/") == instance {
			return bearer.Config{}, fmt.Errorf("gitlab: Config.Audiences names %s, the instance itself, GitLab's default audience: declare an aud of this API's own", a)
		}
	}
	return bearer.Config{
		Issuer:     c.Issuer,
		Audiences:  slices.Clone(c.Audiences),
		Claims:     bearer.ClaimMapping{ClientID: []string{"project_path"}},
		Validators: []bearer.Validator{pinValidator(slices.Clone(c.Projects), slices.Clone(c.Namespaces))},
	}, nil
}

func validPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//")
}

// pinValidator refuses every token of a project that is not pinned.
func pinValidator(projects []Project, namespaces []Namespace) bearer.Validator {
	return bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
		g, err := ClaimsOf(c)
		if err == nil && pinned(g, projects, namespaces) {
			return nil
		}
		return bearer.NewInvalidToken("the token is not from a project this API accepts")
	})
}

func pinned(g Claims, projects []Project, namespaces []Namespace) bool {
	for _, p := range projects {
		if g.ProjectPath == p.Path && (p.ID == "" || g.ProjectID == p.ID) {
			return true
		}
	}
	// The project must lie directly in the namespace it names.
	ns, _ := cutLast(g.ProjectPath, "/")
	for _, n := range namespaces {
		if g.NamespacePath == n.Path && ns == n.Path && (n.ID == "" || g.NamespaceID == n.ID) {
			return true
		}
	}
	return false
}

func cutLast(s, sep string) (string, string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}

// Claims are what a GitLab ID token says of the job that holds it.
type Claims struct {
	ProjectPath   string `json:"project_path"`   // my-group/my-project
	ProjectID     string `json:"project_id"`     // 20
	NamespacePath string `json:"namespace_path"` // my-group
	NamespaceID   string `json:"namespace_id"`   // 72
	Ref           string `json:"ref"`            // feature-branch-1 (no refs/heads/)
	RefType       string `json:"ref_type"`       // branch or tag
	RefPath       string `json:"ref_path"`       // refs/heads/feature-branch-1
	// RefProtected says whether the ref is protected: only maintainers
	// (or whom its protection names) may push to it.
	RefProtected Bool   `json:"ref_protected"`
	Environment  string `json:"environment"` // "" when the job names none
	// EnvironmentProtected says whether the job's environment is
	// protected.
	EnvironmentProtected Bool   `json:"environment_protected"`
	DeploymentTier       string `json:"deployment_tier"`
	PipelineSource       string `json:"pipeline_source"` // push, merge_request_event…
	PipelineID           string `json:"pipeline_id"`
	JobID                string `json:"job_id"`
	UserLogin            string `json:"user_login"` // who runs the job
	SHA                  string `json:"sha"`
	RunnerEnvironment    string `json:"runner_environment"` // gitlab-hosted or self-hosted
}

// Bool reads GitLab's "true" and "false" strings, and JSON booleans.
type Bool bool

// UnmarshalJSON takes "true", "false", true, false and null (false).
func (b *Bool) UnmarshalJSON(v []byte) error {
	switch string(v) {
	case `"true"`, `true`:
		*b = true
	case `"false"`, `false`, `null`:
		*b = false
	default:
		return errors.New("gitlab: neither true nor false")
	}
	return nil
}

// ClaimsOf reads a verified token's GitLab claims (through bearer.Typed,
// so once per token). It fails for a token that names no project, which
// a Verifier configured by Bearer never accepts.
func ClaimsOf(c *bearer.Claims) (Claims, error) {
	g, err := bearer.Typed[Claims](c)
	if err != nil {
		return Claims{}, fmt.Errorf("gitlab: the token's claims: %w", err)
	}
	if g.ProjectPath == "" {
		return Claims{}, errors.New("gitlab: the token names no project")
	}
	return *g, nil
}

func policy(why string, ok func(Claims) bool) bearer.Policy {
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		g, err := ClaimsOf(c)
		if err != nil || !ok(g) {
			return bearer.NewInsufficientScope(why)
		}
		return nil
	})
}

// RequireProject grants access to the jobs of the projects (full paths):
// on a route, a narrower set than the Verifier's.
func RequireProject(paths ...string) bearer.Policy {
	return policy("the caller's project is none of "+strings.Join(paths, ", "), func(g Claims) bool {
		return slices.Contains(paths, g.ProjectPath)
	})
}

// FullRef is the job's ref in full: ref_path ("refs/heads/main"), or,
// from instances older than GitLab 16.0 that send none, ref made full by
// ref_type. It is "" when neither says.
func (g Claims) FullRef() string {
	switch {
	case g.RefPath != "":
		return g.RefPath
	case g.Ref == "":
		return ""
	case g.RefType == "branch":
		return "refs/heads/" + g.Ref
	case g.RefType == "tag":
		return "refs/tags/" + g.Ref
	}
	return ""
}

// RequireRef grants access to jobs run for one of refs, given in full
// ("refs/heads/main", "refs/tags/v1.2.0") and compared with FullRef, so
// that a tag and a branch of one name are never confused.
func RequireRef(refs ...string) bearer.Policy {
	return policy("the caller's ref is none of "+strings.Join(refs, ", "), func(g Claims) bool {
		ref := g.FullRef()
		return ref != "" && slices.Contains(refs, ref)
	})
}

// RequireProtectedRef grants access to jobs run for a protected branch or
// tag: code that only maintainers could push.
func RequireProtectedRef() bearer.Policy {
	return policy("the caller's ref is not protected", func(g Claims) bool { return bool(g.RefProtected) })
}

// RequireEnvironment grants access to jobs that deploy to one of envs,
// exactly as named.
func RequireEnvironment(envs ...string) bearer.Policy {
	return policy("the caller's job deploys to none of the environments "+strings.Join(envs, ", "), func(g Claims) bool {
		return g.Environment != "" && slices.Contains(envs, g.Environment)
	})
}
