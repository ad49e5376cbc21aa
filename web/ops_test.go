package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// withPatients adds n Patients and one Observation of the first to the
// project, through its admin's resource editor.
func withPatients(t *testing.T, admin *webtest.Client, project string, n int) {
	t.Helper()
	var first string
	for i := range n {
		loc := admin.PostForm("/projects/"+project+"/resources/Patient/new",
			url.Values{"json": {`{"resourceType":"Patient","name":[{"family":"Pat` + string(rune('A'+i)) + `"}]}`}}).
			RedirectsTo("/projects/" + project + "/resources/Patient/")
		if first == "" {
			first = loc[strings.LastIndex(loc, "/")+1:]
		}
	}
	admin.PostForm("/projects/"+project+"/resources/Observation/new",
		url.Values{"json": {`{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/` + first + `"}}`}}).
		RedirectsTo("/projects/" + project + "/resources/Observation/")
}

// typeCounts are the live resources of project by type.
func typeCounts(t *testing.T, app *webtest.App, project string) map[string]int64 {
	t.Helper()
	pc, err := app.Sys.ContentsOf(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, tc := range pc.Types {
		out[tc.Type] = tc.N
	}
	return out
}

// awaitJob follows a clone's progress page until it ends, and returns its
// last answer.
func awaitJob(t *testing.T, c *webtest.Client, job string) *webtest.Response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.Get(job).Status(http.StatusOK)
		state, _ := r.Doc().Find(`[data-testid="clone-progress"]`).Attr("data-state")
		if state == "done" || state == "failed" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clone is still %q", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// projectNamed is the id of the project the dashboard lists as name.
func projectNamed(t *testing.T, d dashboard, name string) string {
	t.Helper()
	r := d.ops.Get("/admin?q=" + url.QueryEscape(name)).Status(http.StatusOK)
	href, ok := r.Doc().Find(`[data-testid="admin-project-open"]`).First().Attr("href")
	if !ok {
		t.Fatalf("no project %q", name)
	}
	return strings.TrimPrefix(href, "/projects/")
}

// The dashboard's clone, expunge and global log are for super admins: to
// anyone else, every route of them is the plain 404.
func TestOpsRoutesAreForSuperAdmins(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			for _, path := range []string{"/admin/clone/" + d.alpha, "/admin/expunge/" + d.alpha, "/admin/audit",
				"/admin/jobs/" + d.alpha} {
				d.ada.Get(path).Status(http.StatusNotFound)
				d.app.Client().Get(path).Status(http.StatusNotFound)
			}
			d.ada.PostForm("/admin/clone/"+d.alpha, url.Values{"name": {"Stolen"}}).Status(http.StatusNotFound)
			d.ada.PostForm("/admin/expunge/"+d.alpha, url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusNotFound)
			if _, err := d.app.Sys.ContentsOf(t.Context(), d.alpha); err != nil {
				t.Fatalf("Alpha after a customer's expunge: %v", err)
			}
			for _, path := range []string{"/admin/clone/" + d.alpha, "/admin/expunge/" + d.alpha, "/admin/audit"} {
				d.ops.Get(path).Status(http.StatusOK)
			}
			// A job no one started, or a project that does not exist.
			d.ops.Get("/admin/jobs/" + d.alpha).Status(http.StatusNotFound)
			d.ops.Get("/admin/clone/" + d.adaID).Status(http.StatusNotFound)
			d.ops.Get("/admin/expunge/not-an-id").Status(http.StatusNotFound)

			r := d.ops.Get("/admin?q=alpha").Status(http.StatusOK)
			if href, _ := r.Doc().Find(`[data-testid="admin-project-clone"]`).Attr("href"); href != "/admin/clone/"+d.alpha {
				t.Errorf("Alpha's clone link: %q", href)
			}
			if href, _ := r.Doc().Find(`[data-testid="admin-project-expunge"]`).Attr("href"); href != "/admin/expunge/"+d.alpha {
				t.Errorf("Alpha's expunge link: %q", href)
			}
			if href, _ := r.Doc().Find(`[data-testid="admin-tab-audit"]`).Attr("href"); href != "/admin/audit" {
				t.Errorf("the audit log's tab: %q", href)
			}
		})
	}
}

// The clone form offers the project's types with their counts, all checked;
// a clone runs in the background to its end, and the copy has the chosen
// types only, and its members dropped (the operator alone, as admin) or
// kept.
func TestOpsClone(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			withPatients(t, d.ada, d.alpha, 3)
			addMember(t, d.app, d.alpha, "bob@example.org", false)
			path := "/admin/clone/" + d.alpha

			form := d.ops.Get(path).Status(http.StatusOK).Shows("clone-form")
			if v, _ := form.Doc().Find(`[data-testid="clone-name"]`).Attr("value"); v != "Alpha Clinic (copy)" {
				t.Errorf("the copy's default name: %q", v)
			}
			for typ, label := range map[string]string{"Patient": "Patient (3)", "Observation": "Observation (1)", "Practitioner": "Practitioner (2)"} {
				box := form.Doc().Find(`[data-testid="clone-type-` + typ + `"]`)
				if _, checked := box.Attr("checked"); !checked {
					t.Errorf("%s is not checked", typ)
				}
				id, _ := box.Attr("id")
				if got := strings.TrimSpace(form.Doc().Find(`label[for="` + id + `"]`).Text()); got != label {
					t.Errorf("%s's label: %q, want %q", typ, got, label)
				}
			}
			if _, checked := form.Doc().Find(`[data-testid="clone-memberships"]`).Attr("checked"); checked {
				t.Error("memberships are copied by default")
			}

			// Form errors come back inline, and start nothing.
			d.ops.PostForm(path, url.Values{"name": {"  "}, "types": {"Patient"}}).Status(http.StatusUnprocessableEntity).
				Shows("error-name").Shows("clone-form")
			d.ops.PostForm(path, url.Values{"name": {"Empty"}}).Status(http.StatusUnprocessableEntity).Shows("error-types")
			d.ops.PostForm(path, url.Values{"name": {"Odd"}, "types": {"Nonsense"}}).Status(http.StatusUnprocessableEntity).
				Contains("Nonsense")

			// Patients only, members dropped.
			job := d.ops.PostForm(path, url.Values{"name": {"Alpha Patients"}, "types": {"Patient"}}).RedirectsTo("/admin/jobs/")
			done := awaitJob(t, d.ops, job)
			done.Shows("clone-done")
			href, _ := done.Doc().Find(`[data-testid="clone-done-link"]`).Attr("href")
			copyID := strings.TrimPrefix(href, "/projects/")
			if !kit.IsUUID(copyID) {
				t.Fatalf("the done link: %q", href)
			}
			d.ops.Get(href).Status(http.StatusOK).Contains("Alpha Patients")
			counts := typeCounts(t, d.app, copyID)
			// The operator's own profile is the one Practitioner.
			if counts["Patient"] != 3 || counts["Observation"] != 0 || counts["Practitioner"] != 1 {
				t.Errorf("the copy holds %v", counts)
			}
			pc, err := d.app.Sys.ContentsOf(t.Context(), copyID)
			if err != nil || pc.Members != 1 {
				t.Errorf("the copy's members: %d (%v)", pc.Members, err)
			}
			d.ada.Get(href).Status(http.StatusNotFound)
			// Someone else's job is not theirs to follow, even a super admin's.
			other := addMember(t, d.app, projectNamed(t, d, "Operators"), "ops2@example.org", true)
			other.Get(job).Status(http.StatusNotFound)

			// Everything, members kept.
			job = d.ops.PostForm(path, url.Values{"name": {"Alpha Staging"}, "types": {"Patient", "Observation", "Practitioner"},
				"memberships": {"on"}}).RedirectsTo("/admin/jobs/")
			done = awaitJob(t, d.ops, job)
			href, _ = done.Doc().Find(`[data-testid="clone-done-link"]`).Attr("href")
			copyID = strings.TrimPrefix(href, "/projects/")
			counts = typeCounts(t, d.app, copyID)
			if counts["Patient"] != 3 || counts["Observation"] != 1 || counts["Practitioner"] != 3 {
				t.Errorf("the full copy holds %v", counts)
			}
			d.ada.Get(href).Status(http.StatusOK).Contains("Alpha Staging")
			// The source is as it was.
			if counts := typeCounts(t, d.app, d.alpha); counts["Patient"] != 3 || counts["Practitioner"] != 2 {
				t.Errorf("Alpha after the clones: %v", counts)
			}

			// htmx polls the progress alone.
			d.ops.Header("HX-Request", "true")
			frag := d.ops.Get(job).Status(http.StatusOK)
			d.ops.Header("HX-Request", "")
			if frag.Has("admin-tabs") || !frag.Has("clone-done-link") {
				t.Errorf("the progress fragment: %s", frag.Body)
			}
		})
	}
}

// A clone whose source is expunged before it runs fails with a message,
// and leaves no project behind.
func TestOpsCloneOfAGoneProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			projectsBefore := len(d.ops.Get("/admin").TestIDs("admin-project"))
			// Expunge Alpha between the form and the job, as a second
			// operator would.
			path := "/admin/clone/" + d.alpha
			d.ops.Get(path).Status(http.StatusOK)
			d.ops.PostForm("/admin/expunge/"+d.alpha, url.Values{"confirm": {"Alpha Clinic"}}).RedirectsTo("/admin")
			d.ops.PostForm(path, url.Values{"name": {"Late"}}).Status(http.StatusNotFound)
			if n := len(d.ops.Get("/admin").TestIDs("admin-project")); n != projectsBefore-1 {
				t.Errorf("%d projects after the expunge, from %d", n, projectsBefore)
			}
		})
	}
}

// An expunge asks for the project's name: a wrong one is an inline error
// and changes nothing; the right one deletes the project, and the list says
// so. The last super-admin project cannot be expunged.
func TestOpsExpunge(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			withPatients(t, d.ada, d.alpha, 2)
			path := "/admin/expunge/" + d.alpha
			page := d.ops.Get(path).Status(http.StatusOK).Shows("expunge-form")
			if !strings.Contains(page.Body, "Type Alpha Clinic to confirm") {
				t.Error("the page does not say what to type")
			}
			d.ops.PostForm(path, url.Values{"confirm": {"alpha clinic"}}).Status(http.StatusUnprocessableEntity).
				Shows("error-confirm").Shows("expunge-form")
			d.ops.PostForm(path, url.Values{}).Status(http.StatusUnprocessableEntity).Shows("error-confirm")
			d.ada.Get("/projects/" + d.alpha).Status(http.StatusOK)

			to := d.ops.PostForm(path, url.Values{"confirm": {"Alpha Clinic"}}).RedirectsTo("/admin?expunged=" + d.alpha)
			list := d.ops.Get(to).Status(http.StatusOK)
			if n := list.TestID("notice"); n != "Expunged Alpha Clinic with everything of it." {
				t.Errorf("the notice: %q", n)
			}
			if slices.Contains(list.TestIDs("admin-project-open"), "Alpha Clinic") {
				t.Error("Alpha is still listed")
			}
			d.ada.Get("/projects/" + d.alpha).Status(http.StatusNotFound)
			if _, err := d.app.Sys.ContentsOf(t.Context(), d.alpha); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("Alpha after its expunge: %v", err)
			}
			d.ops.Get(path).Status(http.StatusNotFound)
			// A link that names a project never expunged says nothing.
			if d.ops.Get("/admin?expunged=" + d.adaID).Has("notice") {
				t.Error("a notice for a project never expunged")
			}

			ops := projectNamed(t, d, "Operators")
			d.ops.PostForm("/admin/expunge/"+ops, url.Values{"confirm": {"Operators"}}).Status(http.StatusConflict).
				Contains("only super-admin project")
			d.ops.Get("/admin").Status(http.StatusOK)
		})
	}
}

// The global log has every project's events and the operator's, newest
// first; it filters by project (name or id), person and action, and names
// an expunged project after it is gone.
func TestOpsGlobalAudit(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			beta := d.ada.NewProject("Beta Labs")
			d.ada.PostForm("/projects/"+beta+"/secrets", url.Values{"name": {"BETA_TOKEN"}, "value": {"beta-value"}}).Status(http.StatusOK)
			gamma := d.ops.NewProject("Gamma")
			d.ops.PostForm("/projects/"+gamma+"/secrets", url.Values{"name": {"GAMMA_TOKEN"}, "value": {"g"}}).Status(http.StatusOK)
			d.ops.PostForm("/admin/expunge/"+gamma, url.Values{"confirm": {"Gamma"}}).RedirectsTo("/admin")

			all := d.ops.Get("/admin/audit").Status(http.StatusOK).Shows("audit-table").Shows("audit-filter")
			actions := all.TestIDs("audit-action")
			if len(actions) == 0 || !strings.HasPrefix(actions[0], "project.expunged") {
				t.Errorf("the newest line: %v", actions)
			}

			byName := d.ops.Get("/admin/audit?project=alpha+clinic").Status(http.StatusOK)
			for _, p := range byName.TestIDs("audit-project") {
				if p != "Alpha Clinic" {
					t.Errorf("filtered by Alpha, a line of %q", p)
				}
			}
			if !slices.Contains(byName.TestIDs("audit-action"), "secret.created") {
				t.Errorf("Alpha's secret is not in its lines: %v", byName.TestIDs("audit-action"))
			}
			byID := d.ops.Get("/admin/audit?project=" + beta).Status(http.StatusOK)
			if ts := byID.TestIDs("audit-target"); !slices.Contains(ts, "BETA_TOKEN") || slices.Contains(ts, "ALPHA_TOKEN") {
				t.Errorf("filtered by Beta's id: %v", ts)
			}

			byActor := d.ops.Get("/admin/audit?actor=ADA@example.org").Status(http.StatusOK)
			for _, a := range byActor.TestIDs("audit-actor") {
				if a != "ada@example.org" {
					t.Errorf("filtered by ada, a line of %q", a)
				}
			}
			if ts := byActor.TestIDs("audit-target"); !slices.Contains(ts, "ALPHA_TOKEN") || slices.Contains(ts, "GAMMA_TOKEN") {
				t.Errorf("ada's lines: %v", ts)
			}

			// Gamma is gone with its own events; the operator's line of
			// its expunge names it, and is found by its name and its id.
			for _, q := range []string{"?project=Gamma", "?project=" + gamma, "?action=project.expunged"} {
				r := d.ops.Get("/admin/audit" + q).Status(http.StatusOK)
				if got := r.TestIDs("audit-action"); len(got) != 1 || !strings.HasPrefix(got[0], "project.expunged") {
					t.Errorf("%s: actions %v", q, got)
				}
				if p := r.TestID("audit-project"); !strings.HasPrefix(p, "Gamma") || !strings.Contains(p, "(gone)") {
					t.Errorf("%s: project %q", q, p)
				}
			}
			if none := d.ops.Get("/admin/audit?project=Gamma&actor=ada@example.org").Status(http.StatusOK).Shows("audit-empty"); none.Has("audit-table") {
				t.Error("ada did not expunge Gamma")
			}

			d.ops.Get("/admin/audit?action=nonsense").Status(http.StatusUnprocessableEntity).Shows("error-action")
			broken := d.ops.Get("/admin/audit?before=garbage").Status(http.StatusUnprocessableEntity)
			if got := broken.TestID("form-error"); !strings.Contains(got, "link is broken") {
				t.Errorf("a broken page link's error: %q", got)
			}
			// The log still shows, from the newest line.
			if got := broken.TestIDs("audit-action"); len(got) == 0 || !strings.HasPrefix(got[0], "project.expunged") {
				t.Errorf("after a broken page link, the newest line: %v", got)
			}
		})
	}
}
