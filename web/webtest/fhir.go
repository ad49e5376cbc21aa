package webtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// API sends a FHIR API request. A non-empty body goes as application/fhir+json
// unless the headers (name, value pairs) set another Content-Type.
func (c *Client) API(method, path, body string, headers ...string) *Response {
	t := c.tb()
	t.Helper()
	req, err := http.NewRequest(method, c.app.HTTP.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for k, vs := range c.headers {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

// JSON decodes the body as a JSON object, failing the test otherwise.
func (r *Response) JSON() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		r.t.Fatalf("%s: body is not a JSON object: %v\n%s", r.what, err, clip(r.Body))
	}
	return m
}

// Header returns a response header.
func (r *Response) Header(name string) string { return r.Resp.Header.Get(name) }
