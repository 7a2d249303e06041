package gitlab_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/gitlab"
)

// A release API that jobs of one project may call, from protected refs
// only. The job declares the API's audience:
//
//	release:
//	  id_tokens:
//	    ORDERS_TOKEN:
//	      aud: orders-api
//	  script:
//	    - 'curl -H "Authorization: Bearer $ORDERS_TOKEN" https://orders.example.com/releases'
//
// Here a bearertest issuer stands in for the GitLab instance.
func Example() {
	instance, err := bearertest.NewIssuer(bearertest.WithTLS())
	if err != nil {
		log.Fatal(err)
	}
	defer instance.Close()

	cfg, err := gitlab.Config{
		Issuer:    instance.URL(), // e.g. https://gitlab.com
		Audiences: []string{"orders-api"},
		Projects:  []gitlab.Project{{Path: "my-group/my-project", ID: "20"}},
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	cfg.HTTPClient = instance.Client() // trusts the test issuer's certificate
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	for _, ref := range []map[string]any{
		{"ref": "main", "ref_path": "refs/heads/main", "ref_protected": "true"},
		{"ref": "feature-branch-1", "ref_path": "refs/heads/feature-branch-1", "ref_protected": "false"},
	} {
		ref["aud"], ref["client_id"] = "orders-api", nil
		ref["project_path"], ref["project_id"], ref["namespace_path"], ref["ref_type"] = "my-group/my-project", "20", "my-group", "branch"
		token, _ := instance.Mint(ref)
		claims, err := v.Verify(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(claims.ClientID, gitlab.RequireProtectedRef().Authorize(claims))
	}
	// Output:
	// my-group/my-project <nil>
	// my-group/my-project bearer: insufficient scope: the caller's ref is not protected
}
