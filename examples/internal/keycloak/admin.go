package keycloak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Admin calls Keycloak's admin REST API as the bootstrap administrator.
type Admin struct {
	base, user, password string
	client               *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newAdmin(base, user, password string) *Admin {
	return &Admin{base: base, user: user, password: password,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}}
}

func (a *Admin) close() { a.client.CloseIdleConnections() }

// accessToken is a token of admin-cli in realm master, renewed shortly
// before it expires (master's tokens live a minute).
func (a *Admin) accessToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && time.Until(a.expires) > 15*time.Second {
		return a.token, nil
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {a.user}, "password": {a.password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("keycloak admin token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("keycloak admin token: %s: %s", resp.Status, body)
	}
	a.token, a.expires = tok.AccessToken, time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second)
	return a.token, nil
}

// Do sends method path (e.g. "/admin/realms/services/clients") with body
// as JSON (a []byte is sent as it is; nil sends none) and decodes a JSON
// answer into out, if out is not nil. An answer other than 2xx is an
// error naming it. It returns the answer's headers.
func (a *Admin) Do(ctx context.Context, method, path string, body, out any) (http.Header, error) {
	tok, err := a.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("keycloak admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode/100 != 2 {
		return resp.Header, fmt.Errorf("keycloak admin %s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.Header, fmt.Errorf("keycloak admin %s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// Create POSTs rep to path and returns the id of what it created, the last
// segment of the answer's Location.
func (a *Admin) Create(ctx context.Context, path string, rep any) (string, error) {
	h, err := a.Do(ctx, http.MethodPost, path, rep, nil)
	if err != nil {
		return "", err
	}
	loc := h.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:], nil
}

// ClientUUID is the internal id of realm's client clientID.
func (a *Admin) ClientUUID(ctx context.Context, realm, clientID string) (string, error) {
	var found []struct {
		ID string `json:"id"`
	}
	if _, err := a.Do(ctx, http.MethodGet, "/admin/realms/"+realm+"/clients?clientId="+url.QueryEscape(clientID), nil, &found); err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%w %q in realm %s", ErrNoClient, clientID, realm)
	}
	return found[0].ID, nil
}

// ClientSecret is the secret of realm's confidential client clientID.
func (a *Admin) ClientSecret(ctx context.Context, realm, clientID string) (string, error) {
	id, err := a.ClientUUID(ctx, realm, clientID)
	if err != nil {
		return "", err
	}
	var secret struct {
		Value string `json:"value"`
	}
	if _, err := a.Do(ctx, http.MethodGet, "/admin/realms/"+realm+"/clients/"+id+"/client-secret", nil, &secret); err != nil {
		return "", err
	}
	return secret.Value, nil
}

// ServiceAccountUser is the id of the user standing for clientID's
// service account.
func (a *Admin) ServiceAccountUser(ctx context.Context, realm, clientID string) (string, error) {
	id, err := a.ClientUUID(ctx, realm, clientID)
	if err != nil {
		return "", err
	}
	var user struct {
		ID string `json:"id"`
	}
	if _, err := a.Do(ctx, http.MethodGet, "/admin/realms/"+realm+"/clients/"+id+"/service-account-user", nil, &user); err != nil {
		return "", err
	}
	return user.ID, nil
}
