package tokenclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds what is read from the issuer or the API.
const maxBody = 1 << 20

// TokenEndpoint finds the issuer's token endpoint in its OpenID Connect
// discovery document. The document must name the same issuer: otherwise
// the secret could be sent to whatever endpoint a wrong or spoofed document
// points at.
func TokenEndpoint(ctx context.Context, client *http.Client, issuer string) (string, error) {
	issuer = strings.TrimSuffix(issuer, "/")
	u := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery: GET %s: %s", u, resp.Status)
	}
	var md struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&md); err != nil {
		return "", fmt.Errorf("discovery: GET %s: %w", u, err)
	}
	if strings.TrimSuffix(md.Issuer, "/") != issuer {
		return "", fmt.Errorf("discovery: the document names issuer %q, not %q", md.Issuer, issuer)
	}
	if md.TokenEndpoint == "" {
		return "", errors.New("discovery: the document has no token_endpoint")
	}
	return md.TokenEndpoint, nil
}
