// Package githubactions configures a bearer.Verifier for the OIDC tokens
// of GitHub Actions jobs, so that a workflow calls an API with the token
// GitHub mints for the job instead of a stored secret.
//
// One issuer, https://token.actions.githubusercontent.com, signs the
// tokens of every repository on GitHub, anyone's included: a
// configuration that names no repository accepts every stranger's
// workflow that asks for this API's audience. Config.Bearer therefore
// refuses to build one without Repositories or Owners, and the Verifier
// it configures refuses every token of another repository (401). Routes
// then narrow it further with RequireRepository, RequireRef,
// RequireEnvironment and RequireJobWorkflowRef.
//
// The claims are read by name (repository, ref, environment…), never from
// sub, whose format depends on the repository's settings (immutable
// subject claims put ids in it). Pin repositories by id as well as name
// (Repository.ID) where a deleted owner's name could be registered again.
package githubactions
