package bearerecho

import "github.com/labstack/echo/v4"

// request adapts echo.Context to bearer.Request.
type request struct{ c echo.Context }

func (q request) Header(name string) []string { return q.c.Request().Header.Values(name) }
func (q request) Query(name string) []string  { return q.c.QueryParams()[name] }
func (q request) Method() string              { return q.c.Request().Method }

// Form reads the body's fields only. Echo's FormParams would also return
// the URL query's, letting an access_token in the URL pass as a form token
// even when query tokens are not allowed.
func (q request) Form(name string) []string {
	r := q.c.Request()
	if err := r.ParseForm(); err != nil {
		return nil
	}
	return r.PostForm[name]
}
