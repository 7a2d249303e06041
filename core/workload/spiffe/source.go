package spiffe

import (
	"context"
	"fmt"
	"io"
	"os"
)

// A BundleSource supplies a trust domain's SPIFFE bundle: its JSON, as a
// SPIFFE bundle (a JWKS with spiffe_sequence, spiffe_refresh_hint and keys
// of use "jwt-svid"). BundleFile reads a file; the bearerspiffe adapter
// module reads the SPIFFE Workload API.
//
// Bundle is called on bouncer's key schedule, never per request. An error
// keeps the keys of the last good bundle in use (up to the Verifier's
// MaxStale) and is logged; a bundle, once ParseBundle accepts it, replaces
// them.
type BundleSource interface {
	Bundle(ctx context.Context, trustDomain string) ([]byte, error)
}

// BundleFile is the SPIFFE bundle of one trust domain kept in a file,
// e.g. what `spire-server bundle show -format spiffe` prints, or what a
// SPIRE agent's helper writes and replaces as keys rotate. The file is
// read each time bouncer asks for the keys, so a new bundle is taken
// without a restart. Replace it by renaming a complete file over it: a
// half-written file is a bad bundle, which keeps the last good keys.
type BundleFile string

// Bundle reads the file, at most 1 MiB of it.
func (f BundleFile) Bundle(ctx context.Context, _ string) ([]byte, error) {
	file, err := os.Open(string(f))
	if err != nil {
		return nil, fmt.Errorf("bundle file: %w", err)
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, maxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("bundle file: %w", err)
	}
	return b, ctx.Err()
}

// keysOf turns a BundleSource into the keys of a bearer.Verifier: every
// bundle is read strictly (ParseBundle) before its keys are used.
type keysOf struct {
	source      BundleSource
	trustDomain string
}

func (k keysOf) JWKS(ctx context.Context) ([]byte, error) {
	b, err := k.source.Bundle(ctx, k.trustDomain)
	if err != nil {
		return nil, err
	}
	if _, err := ParseBundle(b); err != nil {
		return nil, fmt.Errorf("trust domain %s: %w", k.trustDomain, err)
	}
	return b, nil
}
