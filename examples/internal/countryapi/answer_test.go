package countryapi

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

func TestAnswers(t *testing.T) {
	for _, c := range []struct {
		name   string
		got    Answer
		status int
		body   string
	}{
		{"country", AnswerCountry("aus"), http.StatusOK, `{"code":"AUS","name":"AUSTRALIA"}`},
		{"unknown country", AnswerCountry("XYZ"), http.StatusNotFound, `{"error":"not_found","error_description":"no country has this code"}`},
		{"data", AnswerData(&bearer.Claims{ClientID: "c", Audience: []string{"country-api"}, Scopes: []string{"country.read"}}, true),
			http.StatusOK, `{"client_id":"c","audience":["country-api"],"scopes":["country.read"]}`},
		{"data, empty lists", AnswerData(&bearer.Claims{ClientID: "c"}, true), http.StatusOK, `{"client_id":"c","audience":[],"scopes":[]}`},
		{"data without claims", AnswerData(nil, false), http.StatusInternalServerError, `{"error":"server_error","error_description":"no verified token"}`},
		{"unencodable", NewAnswer(http.StatusOK, func() {}), http.StatusInternalServerError, `{"error":"server_error","error_description":"the answer could not be encoded"}`},
	} {
		if c.got.Status != c.status || string(c.got.Body) != c.body {
			t.Errorf("%s: got %d %s, want %d %s", c.name, c.got.Status, c.got.Body, c.status, c.body)
		}
	}
}

func TestAnswerHealth(t *testing.T) {
	v, err := NewGuard(Config{IssuerURL: "http://127.0.0.1:1", Audiences: []string{DevAudience}}, slog.New(slog.DiscardHandler), "http://localhost:8091")
	if err != nil {
		t.Fatal(err)
	}
	a := AnswerHealth(t.Context(), v, slog.New(slog.DiscardHandler))
	if want := `{"status":"ok","issuer_ready":false}`; a.Status != http.StatusOK || string(a.Body) != want {
		t.Errorf("got %d %s, want 200 %s", a.Status, a.Body, want)
	}
}
