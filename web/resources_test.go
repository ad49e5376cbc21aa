package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

// storeResource creates a resource through project's store, as the FHIR API
// does, and returns its id.
func storeResource(t *testing.T, app *webtest.App, project, typ, body string) string {
	t.Helper()
	r, err := app.Sys.Tenant(project).CreateResource(t.Context(), typ, []byte(body))
	if err != nil {
		t.Fatalf("create %s: %v", typ, err)
	}
	return r.ID
}

// editorJSON is what the resource editor's textarea holds.
func editorJSON(r *webtest.Response) string {
	return r.Doc().Find(`textarea[name="json"]`).Text()
}

func hiddenVersion(r *webtest.Response) string {
	v, _ := r.Doc().Find(`input[name="version"]`).Attr("value")
	return v
}

const adaJSON = `{"resourceType":"Patient","name":[{"given":["Ada"],"family":"Lovelace"}],"gender":"female","birthDate":"1815-12-10"}`

func TestResourceTypePicker(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/resources"
			storeResource(t, app, project, "Patient", adaJSON)

			home := c.Get("/projects/" + project).Status(http.StatusOK)
			if href, _ := home.Doc().Find(`[data-testid="tab-resources"]`).Attr("href"); href != base {
				t.Errorf("Resources tab links to %q", href)
			}
			page := c.Get(base).Status(http.StatusOK)
			if cur, _ := page.Doc().Find(`[data-testid="tab-resources"]`).Attr("aria-current"); cur != "page" {
				t.Error("the Resources tab is not marked current")
			}
			var common []string
			page.Doc().Find(`[data-testid="common-types"] a .font-semibold`).Each(func(_ int, s *goquery.Selection) {
				common = append(common, s.Text())
			})
			if len(common) < 5 || !slices.Equal(common[:5], []string{"Patient", "Practitioner", "Organization", "Observation", "Encounter"}) {
				t.Errorf("most used types %v", common)
			}
			if got := page.TestID("count-Patient"); got != "1" {
				t.Errorf("Patient count %q, want 1", got)
			}
			all := page.TestID("all-types")
			for _, typ := range []string{"AllergyIntolerance", "Patient", "StructureDefinition", "ValueSet"} {
				if !strings.Contains(all, typ) {
					t.Errorf("all types lack %s", typ)
				}
			}

			// The jump form forgives the letter case and refuses unknown types inline.
			c.Get(base + "?type=patient").Status(http.StatusSeeOther).RedirectsTo(base + "/Patient")
			bad := c.Get(base + "?type=Martian").Status(http.StatusUnprocessableEntity)
			if got := bad.TestID("error-type"); !strings.Contains(got, `"Martian" is not a FHIR R4 resource type`) {
				t.Errorf("unknown type message %q", got)
			}
			for _, path := range []string{"/Martian", "/Martian/new", "/Martian/123", "/patient",
				"/Patient/00000000-0000-4000-8000-000000000000", "/Patient/no-such-id/edit", "/Patient/no-such-id/delete",
				"/Patient/no-such-id/_history/1"} {
				r := c.Get(base + path).Status(http.StatusNotFound)
				if !strings.Contains(r.TestID("error-message"), "does not exist") {
					t.Errorf("%s: 404 page says %q", path, r.TestID("error-message"))
				}
			}
			c.PostForm(base+"/Martian/new", url.Values{"json": {`{"resourceType":"Martian"}`}}).Status(http.StatusNotFound)
		})
	}
}

func TestResourceCreateReadEditDelete(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/resources/Patient"

			form := c.Get(base + "/new").Status(http.StatusOK)
			if got := editorJSON(form); !strings.Contains(got, `"resourceType": "Patient"`) {
				t.Errorf("new editor holds %q", got)
			}

			// Invalid JSON: 422, the problem inline, the submitted text kept.
			const broken = `{"resourceType": "Patient", "name": [`
			r := c.PostForm(base+"/new", url.Values{"json": {broken}}).Status(http.StatusUnprocessableEntity)
			if got := r.TestIDs("issue-message"); len(got) != 1 || !strings.Contains(got[0], "not valid JSON") {
				t.Errorf("invalid JSON issues %q", got)
			}
			if editorJSON(r) != broken {
				t.Errorf("editor lost the submitted JSON: %q", editorJSON(r))
			}

			// strictMode (on by default): every issue with its location.
			const wrong = `{"resourceType":"Patient","gender":"robot","birthDate":"1990-13-45","colour":"blue"}`
			r = c.PostForm(base+"/new", url.Values{"json": {wrong}}).Status(http.StatusUnprocessableEntity)
			exprs := r.TestIDs("issue-expression")
			for _, want := range []string{"Patient.gender", "Patient.birthDate", "Patient.colour"} {
				if !slices.Contains(exprs, want) {
					t.Errorf("issues %q lack %s (messages %q)", exprs, want, r.TestIDs("issue-message"))
				}
			}
			if editorJSON(r) != wrong {
				t.Errorf("editor lost the submitted JSON: %q", editorJSON(r))
			}
			// The URL decides the type.
			r = c.PostForm(base+"/new", url.Values{"json": {`{"resourceType":"Observation"}`}}).Status(http.StatusUnprocessableEntity)
			if !slices.Contains(r.TestIDs("issue-expression"), "resourceType") {
				t.Errorf("type mismatch issues %q", r.TestIDs("resource-issue"))
			}
			// htmx gets the editor alone, with the same status.
			c.HTMX = true
			r = c.PostForm(base+"/new", url.Values{"json": {wrong}}).Status(http.StatusUnprocessableEntity)
			if strings.Contains(r.Body, "<html") || !r.Has("resource-issues") || r.Has("project-tabs") {
				t.Errorf("htmx answer is not the editor fragment:\n%s", r.Body)
			}
			c.HTMX = false
			if res, err := app.Sys.Tenant(project).Search(t.Context(), mustSearch(t, "Patient", nil)); err != nil {
				t.Fatal(err)
			} else if res.Total != 0 {
				t.Fatalf("refused resources were stored: %d", res.Total)
			}

			// Create.
			created := c.PostForm(base+"/new", url.Values{"json": {adaJSON}}).Status(http.StatusSeeOther).RedirectsTo(base + "/")
			loc, _, _ := strings.Cut(created, "?")
			id := strings.TrimPrefix(loc, base+"/")
			show := c.Get(created).Status(http.StatusOK)
			if got := show.TestID("notice"); got != "Created Patient/"+id+"." {
				t.Errorf("notice after create %q", got)
			}
			if got := show.TestID("resource-summary"); got != "Ada Lovelace" {
				t.Errorf("summary %q", got)
			}
			if show.TestID("resource-version") != "1" || show.TestID("key-birthDate") != "birthDate1815-12-10" || show.TestID("resource-ref") != "Patient/"+id {
				t.Errorf("version %q, birthDate %q, ref %q", show.TestID("resource-version"), show.TestID("key-birthDate"), show.TestID("resource-ref"))
			}
			if js := show.TestID("resource-json"); !strings.Contains(js, "\n  \"birthDate\": \"1815-12-10\"") || !strings.Contains(js, `"versionId": "1"`) {
				t.Errorf("JSON not pretty-printed or incomplete:\n%s", js)
			}
			if js := show.TestID("resource-json"); !strings.HasPrefix(js, "{\n  \"resourceType\": \"Patient\",\n  \"id\": \""+id+"\",\n  \"meta\": {") {
				t.Errorf("JSON does not start with resourceType, id and meta:\n%s", js)
			}
			if got := show.TestIDs("history-entry"); len(got) != 1 {
				t.Errorf("history %q", got)
			}

			// Edit: the editor carries the loaded version; saving makes version 2.
			edit := c.Get(loc + "/edit").Status(http.StatusOK)
			if hiddenVersion(edit) != "1" || !strings.Contains(editorJSON(edit), `"family": "Lovelace"`) {
				t.Fatalf("editor: version %q, JSON %q", hiddenVersion(edit), editorJSON(edit))
			}
			edited := strings.Replace(editorJSON(edit), "Lovelace", "King", 1)
			saved := c.PostForm(loc+"/edit", url.Values{"json": {edited}, "version": {"1"}}).Status(http.StatusSeeOther).RedirectsTo(loc)
			if got := c.Get(saved).Status(http.StatusOK).TestID("notice"); got != "Saved Patient/"+id+" as version 2." {
				t.Errorf("notice after edit %q", got)
			}
			show = c.Get(loc).Status(http.StatusOK)
			if show.Has("notice") {
				t.Error("the resource's own address shows the save notice")
			}
			if show.TestID("resource-summary") != "Ada King" || show.TestID("resource-version") != "2" {
				t.Errorf("after edit: %q version %q", show.TestID("resource-summary"), show.TestID("resource-version"))
			}
			if got := show.TestIDs("history-entry"); len(got) != 2 || !show.Has("history-version-1") || !show.Has("history-version-2") {
				t.Errorf("history after edit %q", got)
			}
			old := c.Get(loc + "/_history/1").Status(http.StatusOK)
			if !old.Has("past-version") || old.TestID("resource-summary") != "Ada Lovelace" || old.Has("edit-resource") {
				t.Errorf("version 1 page: past %v, summary %q, editable %v", old.Has("past-version"), old.TestID("resource-summary"), old.Has("edit-resource"))
			}
			c.Get(loc + "/_history/9").Status(http.StatusNotFound)
			c.Get(loc + "/_history/x").Status(http.StatusNotFound)

			// A stale editor (still at version 1) gets a conflict, and its text back.
			stale := strings.Replace(editorJSON(edit), "Lovelace", "Byron", 1)
			r = c.PostForm(loc+"/edit", url.Values{"json": {stale}, "version": {"1"}}).Status(http.StatusConflict)
			if got := r.TestID("edit-conflict"); !strings.Contains(got, "you edited version 1; it is now at version 2") {
				t.Errorf("conflict message %q", got)
			}
			if editorJSON(r) != stale {
				t.Error("the conflict lost the submitted JSON")
			}
			c.HTMX = true
			r = c.PostForm(loc+"/edit", url.Values{"json": {stale}, "version": {"1"}}).Status(http.StatusConflict)
			if !r.Has("edit-conflict") || strings.Contains(r.Body, "<html") {
				t.Error("htmx conflict is not the editor fragment")
			}
			c.HTMX = false
			// A body whose id differs from the URL is refused inline.
			r = c.PostForm(loc+"/edit", url.Values{"json": {adaJSON}, "version": {"2"}}).Status(http.StatusUnprocessableEntity)
			if got := r.TestIDs("issue-message"); len(got) != 1 || !strings.Contains(got[0], "must match the id in the URL") {
				t.Errorf("id mismatch issues %q", got)
			}
			if got := c.Get(loc).TestID("resource-summary"); got != "Ada King" {
				t.Errorf("a refused edit changed the resource: %q", got)
			}

			// Delete: confirmation page, then the search with a notice; the resource is gone.
			confirm := c.Get(loc + "/delete").Status(http.StatusOK)
			if !confirm.Has("confirm-delete") || confirm.TestID("delete-summary") != "Ada King" {
				t.Errorf("confirmation page: %v %q", confirm.Has("confirm-delete"), confirm.TestID("delete-summary"))
			}
			back := c.PostForm(loc+"/delete", nil).Status(http.StatusSeeOther).RedirectsTo(base + "?deleted=")
			list := c.Get(back).Status(http.StatusOK)
			if list.TestID("notice") != "Patient/"+id+" deleted." || !list.Has("no-results") {
				t.Errorf("after delete: notice %q, results %q", list.TestID("notice"), list.TestIDs("result-id"))
			}
			gone := c.Get(loc).Status(http.StatusGone)
			if !strings.Contains(gone.TestID("error-message"), "has been deleted") {
				t.Errorf("deleted resource page says %q", gone.TestID("error-message"))
			}
			c.Get(loc + "/edit").Status(http.StatusGone)
			c.PostForm(loc+"/edit", url.Values{"json": {edited}, "version": {"2"}}).Status(http.StatusGone)
			c.PostForm(loc+"/delete", nil).Status(http.StatusGone)
			// Past versions stay readable.
			c.Get(loc + "/_history/2").Status(http.StatusOK)

			// htmx: a created resource is reached by HX-Redirect, delete likewise.
			c.HTMX = true
			loc, _, _ = strings.Cut(c.PostForm(base+"/new", url.Values{"json": {adaJSON}}).Status(http.StatusOK).RedirectsTo(base+"/"), "?")
			c.PostForm(loc+"/delete", nil).Status(http.StatusOK).RedirectsTo(base + "?deleted=")
		})
	}
}

func mustSearch(t *testing.T, typ string, q url.Values) resources.SearchQuery {
	t.Helper()
	s, err := resources.ParseSearch(typ, q, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResourceSearchPage(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/resources/Patient"
			for _, p := range []struct{ given, family, birth string }{
				{"Anna", "Smith", "1985-02-01"}, {"Bob", "Smithers", "1992-07-14"}, {"Carl", "Jones", "1990-01-01"},
				{"Dora", "Brown", "2001-11-30"}, {"Emil", "Adams", "1979-05-05"},
			} {
				storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"given":["`+p.given+`"],"family":"`+p.family+`"}],"birthDate":"`+p.birth+`"}`)
			}
			storeResource(t, app, project, "Observation", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},"valueQuantity":{"value":72,"unit":"beats/minute"}}`)

			// No criteria: everything, newest first, with the form's fields.
			all := c.Get(base).Status(http.StatusOK)
			if got := all.TestIDs("result-summary"); !slices.Equal(got, []string{"Emil Adams", "Dora Brown", "Carl Jones", "Bob Smithers", "Anna Smith"}) {
				t.Errorf("default listing %q", got)
			}
			for _, field := range []string{"search-name", "search-family", "search-identifier", "search-gender", "search-birthdate", "search-organization", "search-raw"} {
				if !all.Has(field) {
					t.Errorf("search form lacks %s", field)
				}
			}
			if all.TestID("result-range") != "1–5 of 5" || all.Has("page-next") || all.Has("page-prev") {
				t.Errorf("range %q, next %v, prev %v", all.TestID("result-range"), all.Has("page-next"), all.Has("page-prev"))
			}

			// A field, the free query, and both together.
			if got := c.Get(base + "?name=smi").TestIDs("result-summary"); len(got) != 2 || !slices.Contains(got, "Anna Smith") || !slices.Contains(got, "Bob Smithers") {
				t.Errorf("name=smi: %q", got)
			}
			r := c.Get(base + "?" + url.Values{"q": {"birthdate=ge1990&_sort=birthdate"}}.Encode()).Status(http.StatusOK)
			if got := r.TestIDs("result-summary"); !slices.Equal(got, []string{"Carl Jones", "Bob Smithers", "Dora Brown"}) {
				t.Errorf("birthdate=ge1990 sorted by birthdate: %q", got)
			}
			if v, _ := r.Doc().Find(`[data-testid="search-raw"]`).Attr("value"); v != "birthdate=ge1990&_sort=birthdate" {
				t.Errorf("the free query is not kept: %q", v)
			}
			if got := c.Get(base + "?" + url.Values{"name": {"smi"}, "q": {"Patient?birthdate=lt1990"}}.Encode()).TestIDs("result-summary"); !slices.Equal(got, []string{"Anna Smith"}) {
				t.Errorf("field and query combined: %q", got)
			}

			// Paging by name.
			p1 := c.Get(base + "?_sort=family&_count=2").Status(http.StatusOK)
			if got := p1.TestIDs("result-summary"); !slices.Equal(got, []string{"Emil Adams", "Dora Brown"}) || p1.Has("page-prev") {
				t.Fatalf("page 1: %q, prev %v", got, p1.Has("page-prev"))
			}
			next, _ := p1.Doc().Find(`[data-testid="page-next"]`).Attr("href")
			p2 := c.Get(next).Status(http.StatusOK)
			if got := p2.TestIDs("result-summary"); !slices.Equal(got, []string{"Carl Jones", "Anna Smith"}) || p2.TestID("result-range") != "3–4" {
				t.Fatalf("page 2 (%s): %q %q", next, got, p2.TestID("result-range"))
			}
			next, _ = p2.Doc().Find(`[data-testid="page-next"]`).Attr("href")
			p3 := c.Get(next).Status(http.StatusOK)
			// Pages are not counted; the last one knows the total.
			if got := p3.TestIDs("result-summary"); !slices.Equal(got, []string{"Bob Smithers"}) || p3.Has("page-next") || p3.TestID("result-range") != "5–5 of 5" {
				t.Errorf("page 3: %q, next %v, range %q", got, p3.Has("page-next"), p3.TestID("result-range"))
			}
			// A page past the end says so, and is not "no results".
			past := c.Get(base + "?_sort=family&_count=2&_offset=40").Status(http.StatusOK)
			if past.TestID("result-range") != "This page is past the end." || past.Has("no-results") || !past.Has("page-prev") {
				t.Errorf("past the end: range %q, no-results %v, prev %v", past.TestID("result-range"), past.Has("no-results"), past.Has("page-prev"))
			}
			prev, _ := p3.Doc().Find(`[data-testid="page-prev"]`).Attr("href")
			if got := c.Get(prev).TestIDs("result-summary"); !slices.Equal(got, []string{"Carl Jones", "Anna Smith"}) {
				t.Errorf("previous page: %q", got)
			}
			if sel, _ := p2.Doc().Find(`[data-testid="search-count"] option[selected]`).Attr("value"); sel != "2" {
				t.Errorf("page size select shows %q", sel)
			}

			// Other types get their own fields and summaries.
			obs := c.Get("/projects/" + project + "/resources/Observation").Status(http.StatusOK)
			if got := obs.TestIDs("result-summary"); !slices.Equal(got, []string{"Heart rate: 72 beats/minute"}) {
				t.Errorf("observation summary %q", got)
			}
			if !obs.Has("search-code") || !obs.Has("search-subject") || obs.Has("search-birthdate") {
				t.Error("observation search fields")
			}
			if got := c.Get("/projects/" + project + "/resources/Observation?code=http://loinc.org|8867-4").TestIDs("result-id"); len(got) != 1 {
				t.Errorf("token search: %q", got)
			}

			// Bad queries are shown inline, never a 500.
			for q, want := range map[string]string{
				"colour=blue":                   `Unknown search parameter "colour"`,
				"birthdate=19x0":                `Invalid date "19x0"`,
				"_count=lots":                   "_count must be a whole number",
				"name:sounds=smith":             "Unsupported modifier",
				"_sort=colour":                  `Cannot sort by "colour"`,
				"q=" + url.QueryEscape("a=%zz"): "not a valid query string",
				"q=" + url.QueryEscape("name="): "has an empty value",
			} {
				r := c.Get(base + "?" + q).Status(http.StatusUnprocessableEntity)
				if got := r.TestID("search-error"); !strings.Contains(got, want) {
					t.Errorf("%s: error %q, want %q", q, got, want)
				}
				if r.Has("search-results") {
					t.Errorf("%s: results shown with an error", q)
				}
			}
			c.HTMX = true
			r = c.Get(base + "?colour=blue").Status(http.StatusUnprocessableEntity)
			if !r.Has("search-error") || strings.Contains(r.Body, "<html") {
				t.Error("htmx search error is not the panel fragment")
			}
			r = c.Get(base + "?name=jon").Status(http.StatusOK)
			if got := r.TestIDs("result-summary"); !slices.Equal(got, []string{"Carl Jones"}) || strings.Contains(r.Body, "<html") {
				t.Errorf("htmx search: %q", got)
			}
		})
	}
}

func TestSharedDefinitionsAreReadOnlyInTheBrowser(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c, project := app.SignUp("ada@example.org", "Alpha")
	base := "/projects/" + project + "/resources/StructureDefinition"
	list := c.Get(base + "?name=Patient").Status(http.StatusOK)
	if !list.Has("shared-type") || list.Has("new-resource") || list.Has("search-sort") {
		t.Error("shared type page offers writing or sorting")
	}
	if got := list.TestIDs("result-id"); !slices.Contains(got, "Patient") {
		t.Fatalf("StructureDefinition name=Patient: %q", got)
	}
	show := c.Get(base + "/Patient").Status(http.StatusOK)
	if show.Has("edit-resource") || show.Has("delete-resource") || show.Has("history") || !strings.Contains(show.TestID("resource-json"), `"kind": "resource"`) {
		t.Error("shared definition page")
	}
	for _, path := range []string{"/new", "/Patient/edit", "/Patient/delete"} {
		c.Get(base + path).Status(http.StatusForbidden)
	}
	c.PostForm(base+"/new", url.Values{"json": {`{"resourceType":"StructureDefinition"}`}}).Status(http.StatusForbidden)
	c.PostForm(base+"/Patient/delete", nil).Status(http.StatusForbidden)
}

// TestResourcesOfOneProjectOnly: a resource created through project A's
// store shows in A's browser and nowhere in B's.
func TestResourcesOfOneProjectOnly(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			a, projectA := app.SignUp("alice@example.org", "Alpha")
			b, projectB := app.SignUp("bob@example.org", "Beta")
			id := storeResource(t, app, projectA, "Patient", `{"resourceType":"Patient","name":[{"family":"Zebedee"}]}`)
			inA := "/projects/" + projectA + "/resources/Patient"
			inB := "/projects/" + projectB + "/resources/Patient"

			if got := a.Get(inA + "?name=zeb").Status(http.StatusOK).TestIDs("result-id"); !slices.Equal(got, []string{id}) {
				t.Fatalf("A's search: %q", got)
			}
			a.Get(inA + "/" + id).Status(http.StatusOK).Contains("Zebedee")

			for _, q := range []string{"?name=zeb", "", "?_id=" + id} {
				r := b.Get(inB + q).Status(http.StatusOK)
				if !r.Has("no-results") {
					t.Errorf("B's search %q lists %q", q, r.TestIDs("result-id"))
				}
				r.NotContains("Zebedee")
			}
			if got := b.Get("/projects/" + projectB + "/resources").TestID("count-Patient"); got != "0" {
				t.Errorf("B's Patient count %q", got)
			}
			for _, path := range []string{"/" + id, "/" + id + "/edit", "/" + id + "/delete", "/" + id + "/_history/1"} {
				b.Get(inB + path).Status(http.StatusNotFound).NotContains("Zebedee")
			}
			b.PostForm(inB+"/"+id+"/edit", url.Values{"version": {"1"},
				"json": {`{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Hijacked"}]}`}}).Status(http.StatusNotFound)
			b.PostForm(inB+"/"+id+"/delete", nil).Status(http.StatusNotFound)
			// Nor can B reach A's browser at all.
			b.Get(inA + "/" + id).Status(http.StatusNotFound).NotContains("Zebedee")

			// The same holds for a resource created over the FHIR API.
			created := a.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Quixote"}]}`,
				"X-Enclave-Project", projectA).Status(http.StatusCreated).JSON()
			apiID, _ := created["id"].(string)
			if got := a.Get(inA + "?name=quix").TestIDs("result-id"); !slices.Equal(got, []string{apiID}) {
				t.Errorf("A's search for the API's Patient: %q", got)
			}
			a.Get(inA + "/" + apiID).Status(http.StatusOK).Contains("Quixote")
			b.Get(inB + "?name=quix").Status(http.StatusOK).NotContains("Quixote")
			b.Get(inB + "/" + apiID).Status(http.StatusNotFound)

			r, err := app.Sys.Tenant(projectA).ReadResource(t.Context(), "Patient", id)
			if err != nil || r.VersionID != "1" || strings.Contains(string(r.JSON), "Hijacked") {
				t.Errorf("A's resource after B's attempts: version %q, err %v", r.VersionID, err)
			}
		})
	}
}

func TestMembersUseTheResourceBrowser(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("admin@example.org", "Alpha")
	member := addMember(t, app, project, "member@example.org", false)
	base := "/projects/" + project + "/resources"
	if !member.Get("/projects/" + project).Has("tab-resources") {
		t.Error("a member does not see the Resources tab")
	}
	member.Get(base).Status(http.StatusOK)
	loc, _, _ := strings.Cut(member.PostForm(base+"/Patient/new", url.Values{"json": {adaJSON}}).Status(http.StatusSeeOther).RedirectsTo(base+"/Patient/"), "?")
	member.Get(loc).Status(http.StatusOK)
	member.PostForm(loc+"/delete", nil).Status(http.StatusSeeOther)
}
