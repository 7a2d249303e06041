// Package spiffe configures a bearer.Verifier for SPIFFE JWT-SVIDs: the
// tokens a SPIRE agent (or any SPIFFE implementation) hands a workload to
// present to another, with the workload's SPIFFE ID in sub.
//
// JWT-SVIDs differ from the access tokens of an authorization server in
// three ways, and the configuration Bearer builds handles each:
//
//   - There is no discovery. A trust domain's keys are in its trust
//     bundle, a JWKS whose JWT-SVID keys carry use "jwt-svid", which a
//     SPIRE agent keeps current in a file (BundleFile) or streams over
//     the Workload API (the bearerspiffe adapter module). The bundle is
//     read again on bouncer's key schedule: a new kid is looked up at
//     once, a removed key stops verifying within KeyMaxAge (30 seconds
//     here). A bundle that cannot be read keeps the last good keys and is
//     reported; a valid bundle with no keys withdraws them all, as the
//     specification says.
//   - iss is optional, and SPIRE sets none unless its jwt_issuer is
//     configured. Tokens without iss are accepted; a token that carries
//     one must carry Config.Issuer.
//   - sub must be a SPIFFE ID of the configured trust domain: a key of the
//     trust domain never vouches for an ID of another.
//
// Routes then decide on the caller's ID with RequireID and RequireMemberOf;
// Claims.ClientID holds the ID as a string, for logs.
package spiffe
