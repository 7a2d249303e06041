package tokenclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// lookupCode is the country the gRPC and MCP calls ask for, the one of
// DefaultAPIURL.
const lookupCode = "AUS"

// Run gets a token as cfg says and GETs cfg.APIURL with it, or calls the
// gRPC API at cfg.GRPCAddr, the MCP server at cfg.MCPURL or the Connect
// API at cfg.ConnectURL when one is set, printing to out what it does, the API's status and its body; never
// the token or the secret. It fails unless the API answers 2xx (or OK, or
// the tool's answer). A nil client means one with a 15s
// timeout.
func Run(ctx context.Context, cfg Config, client *http.Client, out io.Writer) error {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.DPoP {
		base := client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		t, err := newDPoPTransport(base)
		if err != nil {
			return err
		}
		c := *client
		c.Transport = t
		client = &c
		fmt.Fprintln(out, "DPoP: a fresh P-256 key; every request carries a proof")
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		var err error
		if tokenURL, err = TokenEndpoint(ctx, client, cfg.IssuerURL); err != nil {
			return err
		}
		fmt.Fprintf(out, "token endpoint (discovered): %s\n", tokenURL)
	}

	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     tokenURL,
		Scopes:       cfg.Scopes,
		// AuthStyleAutoDetect (the zero value) tries client_secret_basic,
		// then client_secret_post, and remembers what worked.
	}
	cc.EndpointParams = url.Values{}
	if cfg.Resource != "" {
		cc.EndpointParams.Set("resource", cfg.Resource)
	}
	if cfg.Audience != "" {
		cc.EndpointParams.Set("audience", cfg.Audience)
	}
	// x/oauth2 takes its HTTP client from the context. The token source
	// caches the token and gets a new one shortly before it expires.
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	ts := cc.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		return fmt.Errorf("getting a token from %s: %w", tokenURL, err)
	}
	scope, _ := tok.Extra("scope").(string)
	fmt.Fprintf(out, "obtained a %s token for %s (scope %q, expires %s)\n",
		tok.Type(), cfg.ClientID, scope, tok.Expiry.Format(time.RFC3339))

	// The oauth2 client wraps client and sends the cached token with every
	// request, as a long-running service would.
	switch {
	case cfg.GRPCAddr != "":
		return callGRPC(ctx, ts, cfg.GRPCAddr, out)
	case cfg.MCPURL != "":
		return callMCP(ctx, oauth2.NewClient(ctx, ts), cfg.MCPURL, out)
	case cfg.ConnectURL != "":
		return callConnect(ctx, oauth2.NewClient(ctx, ts), cfg.ConnectURL, cfg.ConnectProtocol, out)
	}
	return call(ctx, oauth2.NewClient(ctx, ts), cfg.APIURL, out)
}

func call(ctx context.Context, client *http.Client, apiURL string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	if err != nil {
		return fmt.Errorf("calling the API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	fmt.Fprintf(out, "GET %s\n", apiURL)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("calling the API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading the API's answer: %w", err)
	}
	fmt.Fprintf(out, "%s\n", resp.Status)
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		fmt.Fprintf(out, "WWW-Authenticate: %s\n", c)
	}
	fmt.Fprintf(out, "%s\n", body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the API answered %s", resp.Status)
	}
	return nil
}
