package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// tokenOptions are the flags of "bouncer token".
type tokenOptions struct {
	issuer    string
	clientID  string
	secret    string
	scopes    listFlag
	audience  string
	resources listFlag
	auth      string
	insecure  bool
	json      bool
}

func (o *tokenOptions) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.StringVar(&o.issuer, "issuer", "", "the issuer `URL`; its token endpoint is found by discovery")
	fs.StringVar(&o.clientID, "client-id", "", "the client's `ID`")
	fs.StringVar(&o.secret, "client-secret", "", "the client's secret `S`; BOUNCER_CLIENT_SECRET keeps it out of the shell's history and ps")
	fs.Var(&o.scopes, "scope", "a scope `S` to ask for; repeat for several")
	fs.StringVar(&o.audience, "audience", "", "the audience `A` to ask for (the audience parameter of Auth0, Okta and others)")
	fs.Var(&o.resources, "resource", "the API `R` to ask a token for (RFC 8707 resource URI); repeat for several")
	fs.StringVar(&o.auth, "auth", "basic", "`how` the client authenticates: basic (client_secret_basic) or post (client_secret_post)")
	fs.BoolVar(&o.insecure, "insecure-http", false, "talk to the issuer over plain http from any host")
	fs.BoolVar(&o.json, "json", false, "print the whole token response, not only the access token")
	return fs
}

func runToken(ctx context.Context, c *cli, args []string) int {
	var o tokenOptions
	positional, code, ok := c.parseArgs("token", o.flagSet(), args)
	if !ok {
		return code
	}
	if o.secret == "" {
		o.secret = c.getenv("BOUNCER_CLIENT_SECRET")
	}
	switch {
	case len(positional) > 0:
		return c.usageError("token", "unexpected argument %q", positional[0])
	case o.issuer == "":
		return c.usageError("token", "--issuer is required")
	case o.clientID == "":
		return c.usageError("token", "--client-id is required")
	case o.secret == "":
		return c.usageError("token", "--client-secret or BOUNCER_CLIENT_SECRET is required")
	case o.audience != "" && len(o.resources) > 0:
		return c.usageError("token", "give --audience or --resource, not both")
	case o.auth != "basic" && o.auth != "post":
		return c.usageError("token", "--auth is basic or post, not %q", o.auth)
	}
	if err := fetchable(o.issuer, o.insecure); err != nil {
		return c.usageError("token", "--issuer: %v", err)
	}
	endpoint, code := c.tokenEndpoint(ctx, &o)
	if endpoint == "" {
		return code
	}
	body, code := c.requestToken(ctx, &o, endpoint)
	if body == nil {
		return code
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		fmt.Fprintf(c.stderr, "bouncer token: %s answered 200 without an access_token\n", endpoint)
		return exitUnavailable
	}
	if o.json {
		fmt.Fprintln(c.stdout, pretty(body, ""))
	} else {
		fmt.Fprintln(c.stdout, resp.AccessToken)
	}
	return exitOK
}

// tokenEndpoint finds the token endpoint by discovery, or says on stderr
// why it cannot and returns the exit code.
func (c *cli) tokenEndpoint(ctx context.Context, o *tokenOptions) (string, int) {
	d, err := c.discover(ctx, o.issuer)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer token: discovery: %v\n", err)
		return "", exitUnavailable
	}
	switch {
	case d.Issuer != o.issuer:
		// The secret goes where the document says: only to the issuer
		// asked for (RFC 8414 §3.3).
		fmt.Fprintf(c.stderr, "bouncer token: %s names issuer %q, not %q: set --issuer to exactly the issuer it names\n", d.url, d.Issuer, o.issuer)
		return "", exitRefused
	case d.TokenEndpoint == "":
		fmt.Fprintf(c.stderr, "bouncer token: %s names no token_endpoint\n", d.url)
		return "", exitRefused
	}
	if err := fetchable(d.TokenEndpoint, o.insecure); err != nil {
		fmt.Fprintf(c.stderr, "bouncer token: token_endpoint: %v\n", err)
		return "", exitRefused
	}
	return d.TokenEndpoint, exitOK
}

// requestToken makes the client-credentials request (RFC 6749 §4.4) and
// returns the answer's body, or says on stderr why there is none and
// returns the exit code.
func (c *cli) requestToken(ctx context.Context, o *tokenOptions, endpoint string) ([]byte, int) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if s := o.scopes.words(); len(s) > 0 {
		form.Set("scope", strings.Join(s, " "))
	}
	if o.audience != "" {
		form.Set("audience", o.audience)
	}
	for _, r := range o.resources {
		form.Add("resource", r)
	}
	if o.auth == "post" {
		form.Set("client_id", o.clientID)
		form.Set("client_secret", o.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer token: %v\n", err)
		return nil, exitUsage
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.auth == "basic" {
		// RFC 6749 §2.3.1: form-encode the ID and secret before Basic's
		// base64, so a secret holding ':' or '+' arrives intact.
		req.SetBasicAuth(url.QueryEscape(o.clientID), url.QueryEscape(o.secret))
	}
	// The request carries the client secret: it goes to the token
	// endpoint the issuer named and nowhere else. A redirect is not
	// followed (a 307 or 308 would re-post the secret, to any origin,
	// plain http included), but reported.
	client := *c.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer token: %v\n", err)
		return nil, exitUnavailable
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		fmt.Fprintf(c.stderr, "bouncer token: %s answered %s%s: the client secret is not sent on to another address; the issuer's token_endpoint should name where tokens are issued\n", endpoint, resp.Status, redirectTarget(resp))
		return nil, exitRefused
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer token: %v\n", err)
		return nil, exitUnavailable
	}
	if resp.StatusCode == http.StatusOK {
		return body, exitOK
	}
	fmt.Fprintf(c.stderr, "bouncer token: %s answered %s%s\n", endpoint, resp.Status, tokenErrorText(body, o))
	if resp.StatusCode >= 500 {
		return nil, exitUnavailable
	}
	return nil, exitRefused
}

// redirectTarget describes where a redirect points, if it says.
func redirectTarget(resp *http.Response) string {
	u, err := resp.Location()
	if err != nil {
		return " (a redirect)"
	}
	return " (a redirect to " + u.Redacted() + ")"
}

// tokenErrorText renders an RFC 6749 §5.2 error answer, with a hint for
// the usual mistakes.
func tokenErrorText(body []byte, o *tokenOptions) string {
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == "" {
		if b := bytes.TrimSpace(body); len(b) > 0 && len(b) < 200 {
			return ": " + string(b)
		}
		return ""
	}
	s := ": " + e.Code
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	switch e.Code {
	case "invalid_client":
		other := "post"
		if o.auth == "post" {
			other = "basic"
		}
		s += fmt.Sprintf("\nhint: check the client ID and secret; if they are right, the client may be registered for the other method: --auth %s", other)
	case "invalid_scope":
		s += "\nhint: the issuer does not allow this scope to this client: ask for another --scope, or grant it to the client at the issuer"
	case "invalid_target":
		s += "\nhint: --resource must be an absolute URI the issuer knows, without a fragment"
	case "unauthorized_client":
		s += "\nhint: enable the client-credentials grant (Keycloak: \"Service accounts roles\") for this client at the issuer"
	}
	return s
}
