package countryapi

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with v as JSON, for net/http handlers (and frameworks
// that expose an http.ResponseWriter).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error","error_description":"the answer could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
