package fhir

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNarrativeRules: in strict mode a narrative holds only safe XHTML
// (txt-1) and some content (txt-2); a script, an event handler or a
// javascript: link is refused, as an empty narrative is.
func TestNarrativeRules(t *testing.T) {
	const ns = `<div xmlns="http://www.w3.org/1999/xhtml">`
	cases := []struct {
		div  string
		want string // part of the one expected problem; "" for none
	}{
		{ns + `<p>Hello <b>world</b></p><table><tr><td>1</td></tr></table><a href="http://example.org">x</a><br/></div>`, ""},
		{ns + `<span style="color:red">Warm</span></div>`, ""},
		{ns + `<img src="data:image/png;base64,iVBORw0KGgo="/></div>`, ""},
		{ns + `<script>alert(1)</script>Hello</div>`, "<script>"},
		{ns + `<p onclick="steal()">Hello</p></div>`, "onclick"},
		{ns + `<a href=" javascript:alert(1)">Hello</a></div>`, "may not link"},
		{ns + `<img src="data:image/svg+xml;base64,PHN2Zz4="/>Hi</div>`, "may not link"},
		{ns + `<iframe src="http://evil.test"></iframe>Hi</div>`, "<iframe>"},
		{ns + `   </div>`, "txt-2"},
		{`<p>Hello</p>`, "one <div>"},
	}
	for _, c := range cases {
		var res map[string]any
		body, err := json.Marshal(map[string]any{"resourceType": "Patient", "text": map[string]any{"status": "generated", "div": c.div}})
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		issues := Validate(res, true)
		switch {
		case c.want == "" && len(issues) > 0:
			t.Errorf("%s: refused: %v", c.div, issues)
		case c.want != "" && (len(issues) != 1 || !strings.Contains(issues[0].Message, c.want) || issues[0].Expression != "Patient.text.div"):
			t.Errorf("%s: issues %+v, want one at Patient.text.div saying %q", c.div, issues, c.want)
		}
		if c.want != "" && len(Validate(res, false)) != 0 {
			t.Errorf("%s: refused outside strict mode", c.div)
		}
	}
}
