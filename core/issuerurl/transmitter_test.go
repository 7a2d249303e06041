package issuerurl

import (
	"slices"
	"testing"
)

func TestTransmitterURLs(t *testing.T) {
	for issuer, want := range map[string][]string{
		"https://tr.example.com": {
			"https://tr.example.com/.well-known/ssf-configuration",
			"https://tr.example.com/.well-known/openid-configuration",
			"https://tr.example.com/.well-known/oauth-authorization-server",
		},
		"https://sso.example.com/realms/services/": {
			"https://sso.example.com/.well-known/ssf-configuration/realms/services",
			"https://sso.example.com/realms/services/.well-known/ssf-configuration",
			"https://sso.example.com/realms/services/.well-known/openid-configuration",
			"https://sso.example.com/.well-known/oauth-authorization-server/realms/services",
		},
	} {
		got, err := TransmitterURLs(issuer)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("TransmitterURLs(%q) = %q, %v; want %q", issuer, got, err, want)
		}
	}
	if _, err := TransmitterURLs("sso"); err == nil {
		t.Error("a relative issuer")
	}
}
