package githubactions_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/githubactions"
)

// A deployment API that the production job of one repository may call.
// The workflow asks for the API's own audience:
//
//	permissions:
//	  id-token: write
//	steps:
//	- uses: actions/github-script@v7
//	  with:
//	    script: |
//	      const token = await core.getIDToken('orders-api')
//
// Here a bearertest issuer stands in for GitHub's.
func Example() {
	github, err := bearertest.NewIssuer(bearertest.WithTLS())
	if err != nil {
		log.Fatal(err)
	}
	defer github.Close()

	cfg, err := githubactions.Config{
		Issuer:       github.URL(), // empty in production: https://token.actions.githubusercontent.com
		Audiences:    []string{"orders-api"},
		Repositories: []githubactions.Repository{{Name: "octo-org/octo-repo", ID: "74"}},
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	cfg.HTTPClient = github.Client() // trusts the test issuer's certificate
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	deploy := bearer.All(
		githubactions.RequireRef("refs/heads/main"),
		githubactions.RequireEnvironment("prod"),
	)

	for _, job := range []map[string]any{
		{"repository": "octo-org/octo-repo", "repository_id": "74", "ref": "refs/heads/main", "environment": "prod"},
		{"repository": "octo-org/octo-repo", "repository_id": "74", "ref": "refs/heads/feature", "environment": "prod"},
		{"repository": "mallory/octo-repo", "repository_id": "666", "ref": "refs/heads/main", "environment": "prod"},
	} {
		job["aud"], job["client_id"], job["repository_owner"] = "orders-api", nil, "octo-org"
		token, _ := github.Mint(job)
		claims, err := v.Verify(context.Background(), token)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(claims.ClientID, deploy.Authorize(claims))
	}
	// Output:
	// octo-org/octo-repo <nil>
	// octo-org/octo-repo bearer: insufficient scope: the caller's ref is none of refs/heads/main
	// bearer: claim refused by a validator: the token is not from a repository this API accepts
}
