package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestInvalidUTF8InAPIBodies: a JSON body with bytes that are not UTF-8 is
// refused with 400, not stored with replacement characters.
func TestInvalidUTF8InAPIBodies(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			c.Header("X-Enclave-Project", project)
			id := create(t, c, "Patient", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`)
			bodies := map[string]string{
				"in a value":           "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"D\xffoe\"}]}",
				"in a key":             "{\"resourceType\":\"Patient\",\"na\xc3me\":[{\"family\":\"Doe\"}]}",
				"a truncated sequence": "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Do\xe2\x82\"}]}",
				"a surrogate half":     "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Do\xed\xa0\x80\"}]}",
				"outside a string":     "{\"resourceType\":\"Patient\"}\xff",
			}
			for what, body := range bodies {
				for _, req := range [][2]string{{http.MethodPost, "/fhir/R4/Patient"}, {http.MethodPut, "/fhir/R4/Patient/" + id}} {
					b := body
					if req[0] == http.MethodPut {
						b = strings.Replace(b, `"resourceType":"Patient"`, `"resourceType":"Patient","id":"`+id+`"`, 1)
					}
					r := c.API(req[0], req[1], b)
					if r.Resp.StatusCode != http.StatusBadRequest {
						t.Errorf("%s %s, invalid UTF-8 %s: status %d, want 400\n%s", req[0], req[1], what, r.Resp.StatusCode, r.Body)
						continue
					}
					if txt := outcomeText(t, r); !strings.Contains(txt, "UTF-8") {
						t.Errorf("%s %s, invalid UTF-8 %s: %q", req[0], req[1], what, txt)
					}
				}
			}
			// The If-None-Exist path decodes the same body.
			c.API(http.MethodPost, "/fhir/R4/Patient", bodies["in a value"], "If-None-Exist", "name=Doe").Status(http.StatusBadRequest)
			// Nothing was stored: still one Patient, unchanged.
			b := c.API(http.MethodGet, "/fhir/R4/Patient?_total=accurate", "").Status(http.StatusOK).JSON()
			if b["total"] != float64(1) {
				t.Errorf("Patients after the refused writes: %v", b["total"])
			}
			c.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK).Contains(`"versionId":"1"`)
		})
	}
}
