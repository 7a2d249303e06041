package countryapi

import "net/http"

// WriteAnswer writes a to a net/http response.
func WriteAnswer(w http.ResponseWriter, a Answer) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}
