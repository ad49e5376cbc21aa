package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// BenchmarkFHIR measures create, read and search through the whole HTTP
// stack (session, tenant resolution, validation, index writes) without a
// network, on SQLite and, when configured, PostgreSQL.
func BenchmarkFHIR(b *testing.B) {
	for _, db := range testdb.All(b) {
		app := webtest.New(b, db)
		client, project := app.SignUp("bench@example.org", "Bench")
		cookie := &http.Cookie{Name: "enclave_session", Value: client.Cookie("enclave_session")}
		do := func(b *testing.B, method, path string, body []byte, want int) []byte {
			r := httptest.NewRequest(method, path, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/fhir+json")
			r.Header.Set("X-Enclave-Project", project)
			r.AddCookie(cookie)
			w := httptest.NewRecorder()
			app.Server.ServeHTTP(w, r)
			if w.Code != want {
				b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
			}
			return w.Body.Bytes()
		}
		patient := func(i int) []byte {
			return fmt.Appendf(nil, `{"resourceType":"Patient","name":[{"family":"Bench%d","given":["Ada"]}],"gender":"female","birthDate":"1990-01-%02d","identifier":[{"system":"urn:bench","value":"%d"}]}`, i, i%28+1, i)
		}
		id := ""
		for i := range 200 {
			out := do(b, http.MethodPost, "/fhir/R4/Patient", patient(i), http.StatusCreated)
			if i == 0 {
				id = string(bytes.Split(bytes.Split(out, []byte(`"id":"`))[1], []byte(`"`))[0])
			}
		}
		b.Run(db.Name+"/create", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				do(b, http.MethodPost, "/fhir/R4/Patient", patient(i), http.StatusCreated)
			}
		})
		b.Run(db.Name+"/read", func(b *testing.B) {
			for b.Loop() {
				do(b, http.MethodGet, "/fhir/R4/Patient/"+id, nil, http.StatusOK)
			}
		})
		b.Run(db.Name+"/search", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				do(b, http.MethodGet, fmt.Sprintf("/fhir/R4/Patient?family=bench%d&gender=female&_count=10", i%200), nil, http.StatusOK)
			}
		})
	}
}

// BenchmarkFHIRReadAuth compares a read with a console session cookie, with
// a client's bearer token and with a user's (from /auth/login), through the
// whole HTTP stack. Every caller is cached (the session's for
// CallerCacheTTL, the client's and the login's likewise), so none costs a
// query for its credentials while the cache holds it.
func BenchmarkFHIRReadAuth(b *testing.B) {
	for _, db := range testdb.All(b) {
		app := webtest.New(b, db)
		client, project := app.SignUp("bench@example.org", "Bench")
		cookie := &http.Cookie{Name: "enclave_session", Value: client.Cookie("enclave_session")}
		id := client.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Bench"}]}`,
			"X-Enclave-Project", project).Status(http.StatusCreated).JSON()["id"].(string)
		c, secret, err := app.Sys.Tenant(project).CreateClient(b.Context(), audit.Actor{}, clients.Input{Name: "Bench"})
		if err != nil {
			b.Fatal(err)
		}
		token := app.Client().ClientToken(c.ID, secret)
		userToken := app.Client().UserTokens("bench@example.org")["access_token"].(string)
		read := func(b *testing.B, auth func(*http.Request)) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/fhir/R4/Patient/"+id, nil)
				auth(r)
				w := httptest.NewRecorder()
				app.Server.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		}
		b.Run(db.Name+"/session", func(b *testing.B) {
			read(b, func(r *http.Request) { r.AddCookie(cookie); r.Header.Set("X-Enclave-Project", project) })
		})
		b.Run(db.Name+"/bearer", func(b *testing.B) {
			read(b, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) })
		})
		b.Run(db.Name+"/user-bearer", func(b *testing.B) {
			read(b, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+userToken) })
		})
	}
}
