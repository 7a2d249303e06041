// Package tokenclient is the calling side of bouncer's examples: a service
// that obtains an access token with the OAuth2 client-credentials grant
// (golang.org/x/oauth2/clientcredentials) and calls a protected API with it.
// The command examples/client runs it from environment variables; tests run
// it against the example APIs.
package tokenclient
