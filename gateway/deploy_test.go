package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// The deployment files of deploy/ are documentation that must work: each
// is parsed, and what it wires is checked against the gateway.

func deployPath(name string) string { return filepath.Join("..", "deploy", name) }

func fakeEnv(name string) (string, bool) {
	if strings.HasSuffix(name, "_URI") {
		return "https://sso.example.com/realms/services", true
	}
	return "s3cr3t/with@odd:chars", true
}

func TestDeployGatewayYAML(t *testing.T) {
	if _, err := CheckFile(deployPath("gateway.yaml"), fakeEnv); err != nil {
		t.Fatal(err)
	}
}

// yamlDocs reads every document of a YAML file.
func yamlDocs(t *testing.T, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(deployPath(name))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				return docs
			}
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, d)
	}
}

// at walks a decoded document.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("no %q in %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("no [%d] in %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}

func stringList(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

var defaultClaimHeaders = []string{DefaultClientIDHeader, DefaultSubjectHeader, DefaultScopesHeader, DefaultIssuerHeader}

func TestDeployKubernetes(t *testing.T) {
	docs := yamlDocs(t, "kubernetes/bouncer.yaml")
	byKind := map[string]map[string]any{}
	for _, d := range docs {
		kind, _ := d["kind"].(string)
		if kind == "" || d["apiVersion"] == nil || at(t, d, "metadata", "name") == nil {
			t.Fatalf("a document without kind, apiVersion or name: %v", d)
		}
		byKind[kind] = d
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "Middleware", "SecurityPolicy"} {
		if byKind[k] == nil {
			t.Fatalf("no %s", k)
		}
	}
	// The configuration in the ConfigMap is one the gateway accepts.
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(at(t, byKind["ConfigMap"], "data", "gateway.yaml").(string)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := CheckFile(file, fakeEnv)
	if err != nil {
		t.Fatal(err)
	}
	// The Deployment runs it, probes the gateway's endpoints, and the
	// Service reaches its pods on its ports.
	c := at(t, byKind["Deployment"], "spec", "template", "spec", "containers", 0)
	if args := strings.Join(stringList(at(t, c, "args")), " "); args != "serve --config /etc/bouncer/gateway.yaml" {
		t.Errorf("args %q", args)
	}
	if at(t, c, "readinessProbe", "httpGet", "path") != "/readyz" || at(t, c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Error("probes are not /readyz and /healthz")
	}
	for i, want := range []string{cfg.Listen.HTTP, cfg.Listen.GRPC} {
		port := at(t, c, "ports", i, "containerPort")
		if !strings.HasSuffix(want, ":"+itoa(port)) {
			t.Errorf("containerPort %v is not the listener %s", port, want)
		}
	}
	labels := at(t, byKind["Deployment"], "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range at(t, byKind["Service"], "spec", "selector").(map[string]any) {
		if labels[k] != v {
			t.Errorf("the Service selects %s=%v, which the pods lack", k, v)
		}
	}
	// Traefik copies exactly the claim headers upstream (and so removes
	// what clients send under those names).
	mw := at(t, byKind["Middleware"], "spec", "forwardAuth")
	if got := stringList(at(t, mw, "authResponseHeaders")); !slices.Equal(got, defaultClaimHeaders) || at(t, mw, "trustForwardHeader") != false || !strings.HasSuffix(at(t, mw, "address").(string), ":9191/auth") {
		t.Errorf("Traefik middleware: %v", mw)
	}
	if at(t, byKind["SecurityPolicy"], "spec", "extAuth", "grpc", "backendRefs", 0, "port") != 9192 || at(t, byKind["SecurityPolicy"], "spec", "extAuth", "failOpen") != false {
		t.Error("Envoy Gateway's ext_authz does not reach the gRPC listener, or fails open")
	}
}

func itoa(v any) string {
	n, _ := v.(int)
	return strconv.Itoa(n)
}

func TestDeployTraefik(t *testing.T) {
	d := yamlDocs(t, "traefik/dynamic.yaml")[0]
	fa := at(t, d, "http", "middlewares", "bouncer", "forwardAuth")
	if got := stringList(at(t, fa, "authResponseHeaders")); !slices.Equal(got, defaultClaimHeaders) || at(t, fa, "trustForwardHeader") != false || at(t, fa, "address") != "http://127.0.0.1:9191/auth" {
		t.Errorf("forwardAuth: %v", fa)
	}
}

// envoyBootstrap checks a file against Envoy's own schema: it is read
// as Envoy's bootstrap message, every typed_config resolved to Envoy's
// types, and their validation rules run.
func envoyBootstrap(t *testing.T, name string) map[string]any {
	t.Helper()
	d := yamlDocs(t, name)[0]
	js, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var boot bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &boot); err != nil {
		t.Fatalf("%s is not an Envoy bootstrap: %v", name, err)
	}
	if err := boot.ValidateAll(); err != nil {
		t.Fatalf("%s: Envoy's validation: %v", name, err)
	}
	return d
}

func TestDeployEnvoyHTTP(t *testing.T) {
	d := envoyBootstrap(t, "envoy/envoy-http.yaml")
	hcm := at(t, d, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	svc := at(t, hcm, "http_filters", 0, "typed_config", "http_service")
	if at(t, svc, "path_prefix") != "/envoy" || at(t, hcm, "http_filters", 0, "typed_config", "failure_mode_allow") != false {
		t.Errorf("http_service: %v", svc)
	}
	var upstream []string
	for _, p := range at(t, svc, "authorization_response", "allowed_upstream_headers", "patterns").([]any) {
		upstream = append(upstream, http.CanonicalHeaderKey(at(t, p, "exact").(string)))
	}
	if !slices.Equal(upstream, defaultClaimHeaders) {
		t.Errorf("allowed_upstream_headers %v; want the claim headers", upstream)
	}
}

func TestDeployEnvoy(t *testing.T) {
	d := envoyBootstrap(t, "envoy/envoy.yaml")
	hcm := at(t, d, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	authz := at(t, hcm, "http_filters", 0, "typed_config")
	if at(t, authz, "failure_mode_allow") != false || at(t, authz, "transport_api_version") != "V3" || at(t, authz, "grpc_service", "envoy_grpc", "cluster_name") != "bouncer" {
		t.Errorf("ext_authz: %v", authz)
	}
	if at(t, authz, "include_peer_certificate") != true || at(t, authz, "encode_raw_headers") != true {
		t.Error("the check lacks the client certificate or keeps repeated headers apart no more")
	}
	if at(t, hcm, "forward_client_cert_details") != "SANITIZE_SET" {
		t.Error("XFCC is not sanitised: a client could name a certificate")
	}
	cluster := at(t, d, "static_resources", "clusters", 0)
	if at(t, cluster, "name") != "bouncer" || at(t, cluster, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "port_value") != 9192 {
		t.Errorf("bouncer cluster: %v", cluster)
	}
}

// The systemd unit: systemd-analyze verify where systemd is installed
// (it prints problems as warnings, so any output fails), and the keys
// the unit relies on in any case.
func TestDeploySystemd(t *testing.T) {
	b, err := os.ReadFile(deployPath("systemd/bouncer.service"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string][]string{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = line[1 : len(line)-1]
			sections[cur] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == "" {
				t.Fatalf("line %d: %q is not Key=Value in a section", n, line)
			}
			sections[cur][k] = append(sections[cur][k], v)
		}
	}
	svc := sections["Service"]
	if svc == nil || sections["Unit"] == nil || sections["Install"] == nil {
		t.Fatalf("sections: %v", sections)
	}
	if got := svc["ExecStart"]; len(got) != 1 || !strings.HasSuffix(got[0], "bouncer serve --config /etc/bouncer/gateway.yaml") {
		t.Errorf("ExecStart %q", got)
	}
	if got := svc["ExecReload"]; len(got) != 1 || !strings.Contains(got[0], "-HUP $MAINPID") {
		t.Errorf("ExecReload %q: the gateway reloads on SIGHUP", got)
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit was parsed only")
		return
	}
	// verify needs the executables to exist: any will do.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "bouncer.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(b, []byte("/usr/local/bin/bouncer"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
