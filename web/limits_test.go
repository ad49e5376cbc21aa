package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
)

// TestAPIBoundsWork: oversized searches and resources answer 400 naming
// the limit, where they used to answer 500 or hold the database for
// seconds.
func TestAPIBoundsWork(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			names := url.Values{}
			for i := range 200 {
				names.Add("name", fmt.Sprint("n", i))
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?"+names.Encode(), "").Status(http.StatusBadRequest).Contains("at most 100 parameters")
			ids := make([]string, 5000)
			for i := range ids {
				ids[i] = fmt.Sprint("i", i)
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_id="+strings.Join(ids, ","), "").Status(http.StatusBadRequest).Contains("at most 1000 values")
			identifiers := make([]string, 10_001)
			for i := range identifiers {
				identifiers[i] = fmt.Sprintf(`{"value":"%d"}`, i)
			}
			e.ada.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","identifier":[`+strings.Join(identifiers, ",")+`]}`).
				Status(http.StatusBadRequest).Contains("searchable values")
			long := strings.Repeat("Ω", 1500) // 3,000 bytes
			create(t, e.ada, "Patient", `{"resourceType":"Patient","name":[{"family":"`+long+`"}]}`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?family:exact="+url.QueryEscape(long), "").Status(http.StatusOK).Contains(`"total":1`)
		})
	}
}
