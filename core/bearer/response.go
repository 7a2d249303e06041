package bearer

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Response is the HTTP answer to a refused request, the same for every
// framework: adapters copy it onto their response and add nothing.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody is the JSON body of a refusal. Error is omitted for a request
// that carried no credentials, mirroring the challenge.
type errorBody struct {
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description"`
}

// ResponseFor renders err as the answer RFC 6750 asks for: the status, a
// WWW-Authenticate challenge naming realm, Retry-After when the issuer is
// unavailable, and a small JSON body {"error":…,"error_description":…}.
func ResponseFor(err error, realm string) Response { return renderResponse(err, realm, "", nil) }

// renderResponse is ResponseFor with RFC 9728's resource_metadata in the
// challenge, when metadata is set, and DPoP's challenge when d accepts it.
func renderResponse(err error, realm, metadata string, d *dpopCheck) Response {
	e := AsError(err)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	for _, c := range e.challenges(realm, metadata, d) {
		h.Add("WWW-Authenticate", c)
	}
	if e.DPoPNonce != "" {
		h.Set("DPoP-Nonce", e.DPoPNonce)
	}
	body := errorBody{Error: string(e.Code), Description: quotable(e.Description)}
	if e.StatusCode() == http.StatusServiceUnavailable {
		body.Error = "temporarily_unavailable"
		h.Set("Retry-After", strconv.Itoa(retrySeconds(e.RetryAfter)))
	}
	b, _ := json.Marshal(body) // two strings: cannot fail
	return Response{Status: e.StatusCode(), Header: h, Body: b}
}

func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
