// Package gitlab configures a bearer.Verifier for GitLab CI/CD ID tokens:
// the JWTs a job declares with the id_tokens keyword, with which it calls
// an API instead of holding a secret.
//
// The issuer is the GitLab instance (https://gitlab.com, or a
// self-managed instance's URL), and it signs the tokens of every project
// it hosts: on gitlab.com, anyone's. Config.Bearer therefore refuses to
// build a configuration without Projects or Namespaces, and the Verifier
// refuses every token of another project (401). Routes narrow further
// with RequireProject, RequireRef, RequireProtectedRef and
// RequireEnvironment.
//
// GitLab writes ref_protected and environment_protected as the strings
// "true" and "false"; Claims reads them as booleans (a JSON boolean is
// taken too). ref is the bare branch or tag name, ref_path the full ref.
// For a merge request pipeline of a fork, GitLab puts the fork in
// project_path (since 18.2.2), so a pinned project refuses it.
package gitlab
