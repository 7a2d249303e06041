package bearertest

import (
	"crypto/subtle"
	"slices"
	"strings"
)

// client is a registered client of the token endpoint.
type client struct {
	id     string
	secret string
	scopes []string
}

func newClient(id, secret string, scopes []string) client {
	var s []string
	for _, arg := range scopes {
		for _, scope := range strings.Fields(arg) {
			if !slices.Contains(s, scope) {
				s = append(s, scope)
			}
		}
	}
	return client{id: id, secret: secret, scopes: s}
}

// AddClient registers a client of the token endpoint, or replaces the one
// with the same ID, as [WithClient] does at start. A call with an empty id
// or secret is ignored: no request could authenticate as that client.
func (i *Issuer) AddClient(id, secret string, scopes ...string) {
	if id == "" || secret == "" {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.clients[id] = newClient(id, secret, scopes)
}

// RemoveClient unregisters a client: later token requests from it fail with
// invalid_client.
func (i *Issuer) RemoveClient(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.clients, id)
}

// authenticate returns the client whose ID and secret these are. Secrets
// are compared in constant time, and an unknown ID costs a comparison too,
// as in any server that takes passwords.
func (i *Issuer) authenticate(id, secret string) (client, bool) {
	i.mu.Lock()
	c, found := i.clients[id]
	i.mu.Unlock()
	match := subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) == 1
	return c, found && match
}

// allScopes returns the union of the scopes of all clients, sorted, for the
// discovery document.
func (i *Issuer) allScopes() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	var all []string
	for _, c := range i.clients {
		all = append(all, c.scopes...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
