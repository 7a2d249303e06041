package countryapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ContentType is the media type of every answer the examples write.
const ContentType = "application/json"

// Answer is a JSON answer ready to write. The examples compute their
// answers here and write them with their framework's raw-bytes call
// (w.Write, c.Data, c.JSONBlob, c.Send), so that the servers answer
// byte for byte alike. The frameworks' own JSON helpers would not: Gin's
// adds "; charset=utf-8" to the Content-Type, and Echo's ends the body
// with a newline.
type Answer struct {
	Status int
	Body   []byte
}

// NewAnswer encodes v as the body of an answer with status. Should v fail
// to encode, the answer is a 500 with an error body rather than a
// half-written one.
func NewAnswer(status int, v any) Answer {
	body, err := json.Marshal(v)
	if err != nil {
		return Answer{http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"the answer could not be encoded"}`)}
	}
	return Answer{status, body}
}

// AnswerCountry answers GET /country/code/{code}: the country, or 404.
func AnswerCountry(code string) Answer {
	c, ok := Lookup(code)
	if !ok {
		return NewAnswer(http.StatusNotFound, UnknownCountry())
	}
	return NewAnswer(http.StatusOK, c)
}

// AnswerData answers GET /api/data with what the verified token says. It
// takes an adapter's Claims results as they come, so that a handler reads
// AnswerData(bearergin.Claims(c)). ok is false only on a route that lost
// its bearer middleware, and that is a server error: the API never
// answers as if a caller had been verified when none was.
func AnswerData(c *bearer.Claims, ok bool) Answer {
	if !ok {
		return NewAnswer(http.StatusInternalServerError, ErrorBody{Error: "server_error", Description: "no verified token"})
	}
	return NewAnswer(http.StatusOK, InfoFrom(c))
}

// AnswerHealth answers GET /healthz (see CheckHealth).
func AnswerHealth(ctx context.Context, g *Guard, logger *slog.Logger) Answer {
	return NewAnswer(http.StatusOK, CheckHealth(ctx, g, logger))
}
