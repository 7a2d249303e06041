package bearergin

import "github.com/gin-gonic/gin"

// request adapts *gin.Context to bearer.Request.
type request struct{ c *gin.Context }

func (q request) Header(name string) []string { return q.c.Request.Header.Values(name) }
func (q request) Query(name string) []string  { return q.c.QueryArray(name) }
func (q request) Method() string              { return q.c.Request.Method }

// Form parses the body with net/http rather than c.PostFormArray, which
// keeps whatever it parsed of a malformed body: a body net/http refuses
// must carry no token here either.
func (q request) Form(name string) []string {
	if err := q.c.Request.ParseForm(); err != nil {
		return nil
	}
	return q.c.Request.PostForm[name]
}
