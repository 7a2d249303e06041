package githubactions

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Issuer is the issuer of GitHub.com's Actions tokens. GitHub Enterprise
// Server's is https://HOSTNAME/_services/token; an enterprise with a
// customized issuer has https://token.actions.githubusercontent.com/<slug>.
const Issuer = "https://token.actions.githubusercontent.com"

// Repository names a repository whose workflows may call the API.
type Repository struct {
	// Name is owner/repository, as the repository claim spells it
	// ("octo-org/octo-repo"); compared without regard to ASCII case, as
	// GitHub compares names.
	Name string
	// ID, when set, is the repository's id (the repository_id claim,
	// e.g. "74"), which a repository keeps across renames and a new one
	// of the same name never has.
	ID string
}

// Owner names an organization or user every repository of which may call
// the API.
type Owner struct {
	// Name is the owner's login (the repository_owner claim).
	Name string
	// ID, when set, is the owner's id (repository_owner_id).
	ID string
}

// Config says which workflows' tokens an API accepts.
type Config struct {
	// Issuer is the issuer tokens carry. Empty means Issuer
	// (GitHub.com).
	Issuer string

	// Audiences this API answers to: the audience the workflow asks for,
	// core.getIDToken("orders-api") or the audience input of the action
	// it uses. Required. GitHub's default audience,
	// https://github.com/<owner>, is refused: every service that takes
	// the default would take the same tokens, and could replay them here.
	Audiences []string

	// Repositories and Owners whose workflows may call the API; at least
	// one is required. A token of any other repository is refused.
	Repositories []Repository
	Owners       []Owner
}

// Bearer returns the bearer.Config for c: the issuer discovered as any
// issuer, the repository pinned, Claims.ClientID the repository's name.
// Set the Verifier's other fields (Logger, Cache…) on it before
// bearer.New; append to its Validators rather than replace them.
func (c Config) Bearer() (bearer.Config, error) {
	issuer := c.Issuer
	if issuer == "" {
		issuer = Issuer
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return bearer.Config{}, fmt.Errorf("githubactions: the issuer %q is not an https URL", issuer)
	}
	if len(c.Repositories) == 0 && len(c.Owners) == 0 {
		return bearer.Config{}, errors.New("githubactions: name the Repositories (or Owners) whose workflows may call this API: the issuer signs the tokens of every repository on GitHub")
	}
	for _, r := range c.Repositories {
		owner, name, ok := strings.Cut(r.Name, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return bearer.Config{}, fmt.Errorf("githubactions: Repository %q is not owner/name", r.Name)
		}
	}
	for _, o := range c.Owners {
		if o.Name == "" || strings.Contains(o.Name, "/") {
			return bearer.Config{}, fmt.Errorf("githubactions: Owner %q is not an owner's login", o.Name)
		}
	}
	if len(c.Audiences) == 0 || slices.Contains(c.Audiences, "") {
		return bearer.Config{}, errors.New("githubactions: Config.Audiences is required, without an empty one: the audience the workflow asks its token for")
	}
	defaultAud := "https://github.com/"
	if issuer != Issuer && !strings.HasPrefix(issuer, Issuer+"/") {
		defaultAud = "https://" + u.Host + "/" // GitHub Enterprise Server
	}
	for _, a := range c.Audiences {
		if strings.HasPrefix(a, defaultAud) {
			return bearer.Config{}, fmt.Errorf("githubactions: Config.Audiences names %s, GitHub's default audience: ask for an audience of this API's own (core.getIDToken(\"orders-api\"))", a)
		}
	}
	return bearer.Config{
		Issuer:     issuer,
		Audiences:  slices.Clone(c.Audiences),
		Claims:     bearer.ClaimMapping{ClientID: []string{"repository"}},
		Validators: []bearer.Validator{pinValidator(slices.Clone(c.Repositories), slices.Clone(c.Owners))},
	}, nil
}

// pinValidator refuses every token of a repository that is not pinned.
func pinValidator(repos []Repository, owners []Owner) bearer.Validator {
	return bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
		g, err := ClaimsOf(c)
		if err == nil && pinned(g, repos, owners) {
			return nil
		}
		return bearer.NewInvalidToken("the token is not from a repository this API accepts")
	})
}

func pinned(g Claims, repos []Repository, owners []Owner) bool {
	for _, r := range repos {
		if asciiEqualFold(g.Repository, r.Name) && (r.ID == "" || g.RepositoryID == r.ID) {
			return true
		}
	}
	owner, _, _ := strings.Cut(g.Repository, "/") // must agree with repository_owner
	for _, o := range owners {
		if asciiEqualFold(g.RepositoryOwner, o.Name) && asciiEqualFold(owner, o.Name) && (o.ID == "" || g.RepositoryOwnerID == o.ID) {
			return true
		}
	}
	return false
}

// asciiEqualFold compares GitHub names, which are ASCII, without regard to
// case, and without Unicode's wider folding (K and the Kelvin sign).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) || a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Claims are what a GitHub Actions token says of the job that holds it.
type Claims struct {
	Repository        string `json:"repository"`          // octo-org/octo-repo
	RepositoryID      string `json:"repository_id"`       // 74
	RepositoryOwner   string `json:"repository_owner"`    // octo-org
	RepositoryOwnerID string `json:"repository_owner_id"` // 65
	// RepositoryVisibility is public, private or internal.
	RepositoryVisibility string `json:"repository_visibility"`
	Ref                  string `json:"ref"`         // refs/heads/main
	RefType              string `json:"ref_type"`    // branch or tag
	SHA                  string `json:"sha"`         // the commit
	Environment          string `json:"environment"` // "" when the job names none
	// JobWorkflowRef is the workflow file that defines the job, with its
	// ref: octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main
	// (the called workflow, for a reusable one).
	JobWorkflowRef string `json:"job_workflow_ref"`
	// WorkflowRef is the caller's workflow file, with its ref.
	WorkflowRef       string `json:"workflow_ref"`
	Workflow          string `json:"workflow"`           // the workflow's name
	EventName         string `json:"event_name"`         // push, workflow_dispatch…
	Actor             string `json:"actor"`              // who started the run
	RunID             string `json:"run_id"`             // the run
	RunnerEnvironment string `json:"runner_environment"` // github-hosted or self-hosted
}

// ClaimsOf reads a verified token's GitHub claims (through bearer.Typed,
// so once per token). It fails for a token that names no repository,
// which a Verifier configured by Bearer never accepts.
func ClaimsOf(c *bearer.Claims) (Claims, error) {
	g, err := bearer.Typed[Claims](c)
	if err != nil {
		return Claims{}, fmt.Errorf("githubactions: the token's claims: %w", err)
	}
	if g.Repository == "" {
		return Claims{}, errors.New("githubactions: the token names no repository")
	}
	return *g, nil
}

// policy grants access when ok holds for the token's claims.
func policy(why string, ok func(Claims) bool) bearer.Policy {
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		g, err := ClaimsOf(c)
		if err != nil || !ok(g) {
			return bearer.NewInsufficientScope(why)
		}
		return nil
	})
}

// RequireRepository grants access to the workflows of the repositories
// (owner/name, without regard to ASCII case): on a route, a narrower set
// than the Verifier's.
func RequireRepository(names ...string) bearer.Policy {
	return policy("the caller's repository is none of "+strings.Join(names, ", "), func(g Claims) bool {
		return slices.ContainsFunc(names, func(n string) bool { return asciiEqualFold(g.Repository, n) })
	})
}

// RequireRef grants access to jobs run for one of refs, exactly as the ref
// claim has it: "refs/heads/main", "refs/tags/v1.2.0".
func RequireRef(refs ...string) bearer.Policy {
	return policy("the caller's ref is none of "+strings.Join(refs, ", "), func(g Claims) bool {
		return g.Ref != "" && slices.Contains(refs, g.Ref)
	})
}

// RequireEnvironment grants access to jobs that deploy to one of envs,
// exactly as named: GitHub environments can require reviewers and limit
// the branches that deploy to them, which makes them the strongest
// check a route can ask for.
func RequireEnvironment(envs ...string) bearer.Policy {
	return policy("the caller's job deploys to none of the environments "+strings.Join(envs, ", "), func(g Claims) bool {
		return g.Environment != "" && slices.Contains(envs, g.Environment)
	})
}

// RequireJobWorkflowRef grants access to jobs defined by one of the
// workflow files refs, with their ref, exactly:
// "octo-org/octo-automation/.github/workflows/deploy.yml@refs/heads/main".
// With a reusable workflow, that is the workflow called: the one place
// a deployment's steps are reviewed, whichever repository calls it.
func RequireJobWorkflowRef(refs ...string) bearer.Policy {
	return policy("the caller's job is defined by none of "+strings.Join(refs, ", "), func(g Claims) bool {
		return g.JobWorkflowRef != "" && slices.Contains(refs, g.JobWorkflowRef)
	})
}
