package projectops_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/projectops"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"
	"enclave/models/testdb"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// world is a source project full of things to copy, and a super admin.
type world struct {
	db       *gorm.DB
	sys      models.System
	box      *secrets.Box
	operator accounts.User
	ops      string // the operator's own (super-admin) project
	source   string
	member   accounts.User
	patient  string
	obs      string
	policy   string
	client   clients.Client
	// clientSecret is the source client's secret.
	clientSecret string
	secret       string
}

func newWorld(t *testing.T, db *gorm.DB) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{db: db, sys: models.NewSystem(db)}
	key, err := secrets.GenerateKey()
	must(t, err)
	w.box, err = secrets.NewBox(key)
	must(t, err)
	w.operator = user(t, w.sys, "operator@example.org")
	w.member = user(t, w.sys, "member@example.org")
	w.ops = project(t, w.sys, w.operator, "Operators")
	must(t, w.sys.SetSuperAdmin(ctx, w.ops, true))
	w.source = project(t, w.sys, w.member, "Source clinic")

	src := w.sys.Tenant(w.source)
	p, err := src.CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Quixote","given":["Alonso"]}],"identifier":[{"system":"urn:x","value":"42"}]}`))
	must(t, err)
	w.patient = p.ID
	// A second version, so the source has history the copy does not.
	_, err = src.UpdateResource(ctx, "Patient", p.ID, []byte(`{"resourceType":"Patient","id":"`+p.ID+`","name":[{"family":"Quixote","given":["Alonso"]}],"identifier":[{"system":"urn:x","value":"42"}],"gender":"male"}`), "")
	must(t, err)
	o, err := src.CreateResource(ctx, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}],"text":"weight"},
		"subject":{"reference":"Patient/`+p.ID+`"},"effectiveDateTime":"2024-05-06",
		"valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},
		"contained":[{"resourceType":"Provenance","id":"prov","recorded":"2024-05-06T00:00:00Z","agent":[{"who":{"reference":"Patient/`+p.ID+`/_history/1"}}],"target":[{"reference":"Patient/`+p.ID+`"}]}],
		"performer":[{"reference":"#prov"},{"reference":"https://elsewhere.example.org/fhir/Patient/`+p.ID+`"}]}`))
	must(t, err)
	w.obs = o.ID
	_, err = src.CreateResource(ctx, "Encounter", []byte(`{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
		"subject":{"reference":"Patient/`+p.ID+`"},"reasonReference":[{"reference":"Observation/`+o.ID+`"}]}`))
	must(t, err)
	gone, err := src.CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Gone"}]}`))
	must(t, err)
	must(t, src.DeleteResource(ctx, "Patient", gone.ID))

	pol, err := src.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Own observations", Rules: []resources.PolicyRule{
		{ResourceType: "Observation", Criteria: "Observation?subject=Patient/" + p.ID}, {ResourceType: "Patient", ReadOnly: true}}})
	must(t, err)
	w.policy = pol.ID
	must(t, db.Exec("UPDATE projects SET default_patient_access_policy = ? WHERE id = ?", pol.ID, w.source).Error)
	_, err = src.Secrets(w.box).Create(ctx, audit.Actor{}, "API_KEY", "s3cr3t-value-123456")
	must(t, err)
	w.secret = "s3cr3t-value-123456"
	w.client, w.clientSecret, err = src.CreateClient(ctx, audit.Actor{}, clients.Input{Name: "Sync", AccessPolicyID: pol.ID})
	must(t, err)
	if _, err := w.sys.AuthenticateClient(ctx, w.client.ID, w.clientSecret); err != nil {
		t.Fatalf("the source's client does not sign in: %v", err)
	}
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func user(t testing.TB, sys models.System, email string) accounts.User {
	t.Helper()
	u, err := sys.CreateUser(context.Background(), accounts.NewUser{FirstName: "Test", LastName: strings.Split(email, "@")[0], Email: email, Password: "password-123"})
	must(t, err)
	return u
}

func project(t testing.TB, sys models.System, owner accounts.User, name string) string {
	t.Helper()
	p, err := sys.CreateProject(context.Background(), owner.ID, projects.NewProject{Name: name})
	must(t, err)
	return p.ID
}

func (w *world) actor() audit.Actor {
	return audit.Actor{UserID: w.operator.ID, Email: w.operator.Email, IP: "192.0.2.1"}
}

// liveResources lists a project's live resources as "Type/id" → JSON.
func liveResources(t *testing.T, db *gorm.DB, projectID string) map[string]string {
	t.Helper()
	var rows []struct{ ResourceType, ID, Content string }
	must(t, db.Raw("SELECT resource_type, id, content FROM resources WHERE project_id = ? AND NOT deleted", projectID).Scan(&rows).Error)
	out := map[string]string{}
	for _, r := range rows {
		out[r.ResourceType+"/"+r.ID] = r.Content
	}
	return out
}

func countByType(m map[string]string) map[string]int {
	out := map[string]int{}
	for k := range m {
		out[strings.Split(k, "/")[0]]++
	}
	return out
}

// dump is every row of every table of the schema, as text, for checking
// that something changed nothing.
func dump(t *testing.T, db *gorm.DB) map[string][]string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if kit.DialectOf(db) == kit.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var tables []string
	must(t, db.Raw(q).Scan(&tables).Error)
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Raw(`SELECT * FROM "` + table + `"`).Rows()
		must(t, err)
		cols, err := rows.Columns()
		must(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		must(t, rows.Err())
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

func sameDump(t *testing.T, before, after map[string][]string, what string) {
	t.Helper()
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("%s changed table %s: %d rows before, %d after", what, table, len(rows), len(after[table]))
		}
	}
	for table, rows := range after {
		if _, ok := before[table]; !ok && len(rows) > 0 {
			t.Errorf("%s left %d rows in a new table %s", what, len(rows), table)
		}
	}
}

// TestClone: the copy has the same resources per type under new ids, every
// reference inside it points inside it, search works there, its secrets,
// policies, client and settings follow, and the source is untouched, then
// and after edits on either side.
func TestClone(t *testing.T) {
	dbs := testdb.All(t)
	if pg, ok := testdb.Postgres(t); ok {
		// A pool too small for the index crew: the clone copies its index
		// rows in its own transaction.
		must(t, models.SetPoolSize(pg.DB, 4))
		dbs = append(dbs, testdb.DB{Name: "postgres-without-crew", DB: pg.DB})
	}
	for _, db := range dbs {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, db.DB)
			before := liveResources(t, db.DB, w.source)
			srcDump := dump(t, db.DB)

			var steps []string
			restore := projectops.SetHook(func(s string) error { steps = append(steps, s); return nil })
			res, err := w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: w.source, Name: "Copy clinic", Actor: w.actor()})
			restore()
			must(t, err)
			if crewed := slices.Contains(steps, "index committed"); crewed != (db.Name == "postgres") {
				t.Errorf("steps %q: the index crew ran %v, want it on PostgreSQL with a pool that has room", steps, crewed)
			}
			clone := res.Project.ID
			if clone == w.source || !kit.IsUUID(clone) || res.Project.Name != "Copy clinic" || res.Project.SuperAdmin {
				t.Fatalf("the new project: %+v", res.Project)
			}
			if res.Resources != len(before) || res.Policies != 1 || res.Secrets != 1 || res.Clients != 1 || res.Memberships != 1 {
				t.Errorf("result %+v, want %d resources, 1 policy, secret, client and membership", res, len(before))
			}

			// The source did not change at all.
			after := dump(t, db.DB)
			for table, rows := range srcDump {
				for _, r := range rows {
					if !slices.Contains(after[table], r) {
						t.Errorf("source row of %s changed or went: %s", table, r)
					}
				}
			}

			copied := liveResources(t, db.DB, clone)
			// The source's resources, and the profile of the caller, the
			// copy's one member.
			want := countByType(before)
			want[resources.ProfileType]++
			if got := countByType(copied); !maps.Equal(got, want) {
				t.Errorf("resources by type: %v, want %v", got, want)
			}
			for key, content := range copied {
				id := strings.Split(key, "/")[1]
				if before[key] != "" {
					t.Errorf("%s kept its source id", key)
				}
				var res map[string]any
				must(t, json.Unmarshal([]byte(content), &res))
				meta := res["meta"].(map[string]any)
				if res["id"] != id || meta["project"] != clone || meta["versionId"] != "1" {
					t.Errorf("%s: id %v, meta %v", key, res["id"], meta)
				}
				for _, ref := range fhir.References(res) {
					if ref.Type == "" {
						if !strings.HasPrefix(ref.Reference, "https://") {
							t.Errorf("%s: unexpected reference %q", key, ref.Reference)
						}
						continue
					}
					if _, ok := copied[ref.Type+"/"+ref.ID]; !ok {
						t.Errorf("%s: reference %q at %s points outside the clone", key, ref.Reference, ref.Path)
					}
				}
				if strings.Contains(content, w.patient) && !strings.Contains(content, "elsewhere.example.org/fhir/Patient/"+w.patient) {
					t.Errorf("%s still names the source patient: %s", key, content)
				}
			}

			// Search works in the copy, through its index.
			ct := w.sys.Tenant(clone)
			newPatient := only(t, search(t, ct, "Patient", "family=quixote"))
			only(t, search(t, ct, "Patient", "identifier=urn:x|42"))
			obs := only(t, search(t, ct, "Observation", "subject=Patient/"+newPatient.ID))
			if byValue := only(t, search(t, ct, "Observation", "value-quantity=72.5|http://unitsofmeasure.org|kg")); byValue.ID != obs.ID {
				t.Errorf("value-quantity found %s in the copy, want %s", byValue.ID, obs.ID)
			}
			if byPair := only(t, search(t, ct, "Observation", "code-value-quantity=http://loinc.org|29463-7$72.5")); byPair.ID != obs.ID {
				t.Errorf("code-value-quantity found %s in the copy, want %s", byPair.ID, obs.ID)
			}
			only(t, search(t, ct, "Observation", "date=2024-05-06"))
			only(t, search(t, ct, "Encounter", "reason-reference=Observation/"+obs.ID))
			if n := len(search(t, ct, "Observation", "subject=Patient/"+w.patient).Resources); n != 0 {
				t.Errorf("a search by the source patient found %d in the copy", n)
			}
			if n := len(search(t, w.sys.Tenant(w.source), "Observation", "subject=Patient/"+newPatient.ID).Resources); n != 0 {
				t.Errorf("a search of the source found %d copies", n)
			}
			hist, err := ct.ResourceHistory(ctx, "Patient", newPatient.ID, resources.Page{Count: 10})
			must(t, err)
			if hist.Total != 1 {
				t.Errorf("the copy's history has %d versions, want 1", hist.Total)
			}

			// Edits on either side stay there.
			_, err = ct.UpdateResource(ctx, "Patient", newPatient.ID, []byte(`{"resourceType":"Patient","id":"`+newPatient.ID+`","name":[{"family":"Panza"}]}`), "1")
			must(t, err)
			_, err = w.sys.Tenant(w.source).UpdateResource(ctx, "Patient", w.patient, []byte(`{"resourceType":"Patient","id":"`+w.patient+`","name":[{"family":"Rocinante"}]}`), "")
			must(t, err)
			if n := len(search(t, w.sys.Tenant(w.source), "Patient", "family=panza").Resources); n != 0 {
				t.Error("an edit of the copy reached the source")
			}
			if n := len(search(t, ct, "Patient", "family=rocinante").Resources); n != 0 {
				t.Error("an edit of the source reached the copy")
			}
			only(t, search(t, ct, "Patient", "family=panza"))

			// Settings, policies, secrets, clients, members.
			p, err := ct.Project(ctx)
			must(t, err)
			pols, err := ct.AccessPolicies(ctx)
			must(t, err)
			if len(pols) != 1 || pols[0].ID == w.policy || pols[0].Name != "Own observations" ||
				pols[0].Rules[0].Criteria != "Observation?subject=Patient/"+newPatient.ID {
				t.Errorf("the copy's policies: %+v", pols)
			}
			if p.DefaultPatientAccessPolicy == nil || *p.DefaultPatientAccessPolicy != pols[0].ID || !p.StrictMode {
				t.Errorf("the copy's settings: %+v", p)
			}
			v, err := ct.Secrets(w.box).Value(ctx, "API_KEY")
			must(t, err)
			if v != w.secret {
				t.Errorf("the copy's secret is %q", v)
			}
			cs, err := ct.Clients(ctx)
			must(t, err)
			if len(cs) != 1 || cs[0].ID == w.client.ID || cs[0].Name != "Sync" || cs[0].AccessPolicyID == nil || *cs[0].AccessPolicyID != pols[0].ID {
				t.Errorf("the copy's clients: %+v", cs)
			}
			// The copied client cannot sign in with the source's secret
			// (nor any other, until an admin rotates it).
			if _, err := w.sys.AuthenticateClient(ctx, cs[0].ID, w.clientSecret); err == nil {
				t.Error("the copied client signs in with the source client's secret")
			}
			ms, err := ct.Members(ctx)
			must(t, err)
			if len(ms) != 1 || ms[0].User.ID != w.operator.ID || !ms[0].Membership.Admin || ms[0].Membership.ProfileID == nil {
				t.Errorf("the copy's members: %+v", ms)
			} else if _, err := ct.ReadResource(ctx, resources.ProfileType, *ms[0].Membership.ProfileID); err != nil {
				t.Errorf("the caller's profile in the copy: %v", err)
			}

			// The operator's log has it.
			log, err := audit.OperatorLog(ctx, db.DB, 10)
			must(t, err)
			if len(log) != 1 || log[0].Action != audit.ActionProjectCloned || log[0].Target != "Project/"+clone ||
				!strings.Contains(log[0].Details, w.source) || log[0].ActorEmail != w.operator.Email {
				t.Errorf("operator log: %+v", log)
			}
		})
	}
}

func search(t *testing.T, ten models.Tenant, typ, query string) resources.SearchResult {
	t.Helper()
	v, err := url.ParseQuery(query)
	must(t, err)
	q, err := resources.ParseSearch(typ, v, false)
	must(t, err)
	r, err := ten.Search(t.Context(), q)
	must(t, err)
	return r
}

func only(t *testing.T, r resources.SearchResult) resources.Resource {
	t.Helper()
	if len(r.Resources) != 1 {
		t.Fatalf("found %d, want 1", len(r.Resources))
	}
	return r.Resources[0]
}

// TestCloneFiltersAndMemberships: resourceTypes, includeIds and excludeIds
// choose the resources; memberships=true copies every member with a profile
// of their own, and the caller is an admin.
func TestCloneFiltersAndMemberships(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, db.DB)
			res, err := w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: w.source, ResourceTypes: []string{"Patient"},
				Memberships: true, Actor: w.actor()})
			must(t, err)
			got := countByType(liveResources(t, db.DB, res.Project.ID))
			// The Patient, and the member's Practitioner profile (copied
			// with the membership); the operator gets a new profile.
			if !maps.Equal(got, map[string]int{"Patient": 1, "Practitioner": 2}) {
				t.Errorf("resourceTypes=Patient copied %v", got)
			}
			if res.Project.Name != "Source clinic" {
				t.Errorf("name %q", res.Project.Name)
			}
			ms, err := w.sys.Tenant(res.Project.ID).Members(ctx)
			must(t, err)
			byUser := map[string]bool{}
			for _, m := range ms {
				byUser[m.User.ID] = m.Membership.Admin
				if m.Membership.ProfileID == nil {
					t.Errorf("%s has no profile", m.User.Email)
				} else if _, err := w.sys.Tenant(res.Project.ID).ReadResource(ctx, resources.ProfileType, *m.Membership.ProfileID); err != nil {
					t.Errorf("%s's profile: %v", m.User.Email, err)
				}
			}
			if len(ms) != 2 || !byUser[w.member.ID] || !byUser[w.operator.ID] {
				t.Errorf("members: %v", byUser)
			}

			res, err = w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: w.source, IncludeIDs: []string{w.patient, w.obs},
				ExcludeIDs: []string{w.patient}, Actor: w.actor()})
			must(t, err)
			copied := liveResources(t, db.DB, res.Project.ID)
			got = countByType(copied)
			if !maps.Equal(got, map[string]int{"Observation": 1, "Practitioner": 1}) {
				t.Errorf("include/exclude copied %v", got)
			}
			for _, content := range copied {
				if strings.Contains(content, `"Observation"`) && !strings.Contains(content, `"reference":"Patient/`+w.patient+`"`) {
					t.Errorf("a reference to a resource left out should stay as it was: %s", content)
				}
			}

			var v *kit.ValidationError
			_, err = w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: w.source, ResourceTypes: []string{"Nope", "StructureDefinition"}, Actor: w.actor()})
			if !errors.As(err, &v) || v.Fields["resourceTypes"] == "" {
				t.Errorf("unknown types: %v", err)
			}
			if _, err := w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: "5b8e6a52-5a37-4c0c-9c27-000000000000", Actor: w.actor()}); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a missing source: %v", err)
			}
		})
	}
}

// TestCloneIsAtomic: a failure at any step leaves the database as it was.
func TestCloneIsAtomic(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.DB)
			before := dump(t, db.DB)
			steps := []string{"content", "resources", "secrets", "memberships"}
			if db.Name == "postgres" {
				// After the index crew committed, before the clone does.
				steps = append(steps, "index committed")
			}
			for _, step := range steps {
				restore := projectops.SetHook(func(s string) error {
					if s == step {
						return errors.New("injected failure")
					}
					return nil
				})
				_, err := w.sys.CloneProject(t.Context(), w.box, projectops.CloneInput{SourceID: w.source, Memberships: true, Actor: w.actor()})
				restore()
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("failing at %s: %v", step, err)
				}
				sameDump(t, before, dump(t, db.DB), "a clone failing at "+step)
			}
			// And the same connection pool clones fine afterwards.
			if _, err := w.sys.CloneProject(t.Context(), w.box, projectops.CloneInput{SourceID: w.source, Actor: w.actor()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCloneSweepsAfterACrash: a clone whose process dies between its index
// crew's commit and its own leaves index rows of a project that does not
// exist, and its intent; the sweep deletes both, leaving the database as
// it was, and leaves alone a clone still running.
func TestCloneSweepsAfterACrash(t *testing.T) {
	pg, ok := testdb.Postgres(t)
	if !ok {
		return
	}
	w := newWorld(t, pg.DB)
	before := dump(t, pg.DB)
	restoreCrash := projectops.CrashForTest()
	restore := projectops.SetHook(func(s string) error {
		if s == "index committed" {
			return errors.New("the process dies here")
		}
		return nil
	})
	_, err := w.sys.CloneProject(t.Context(), w.box, projectops.CloneInput{SourceID: w.source, Actor: w.actor()})
	restore()
	restoreCrash()
	if err == nil || !strings.Contains(err.Error(), "the process dies here") {
		t.Fatalf("the clone: %v", err)
	}
	var orphans, intents, projectsAfter int64
	must(t, pg.DB.Raw(`SELECT COUNT(*) FROM resource_strings WHERE project_id NOT IN (SELECT id FROM projects)`).Scan(&orphans).Error)
	must(t, pg.DB.Raw(`SELECT COUNT(*) FROM clone_intents`).Scan(&intents).Error)
	must(t, pg.DB.Raw(`SELECT COUNT(*) FROM projects`).Scan(&projectsAfter).Error)
	if orphans == 0 || intents != 1 {
		t.Fatalf("after the crash: %d index rows of no project, %d intents; want some, and 1", orphans, intents)
	}
	if int(projectsAfter) != len(before["projects"]) {
		t.Errorf("the crash left %d projects, want %d: no project half copied", projectsAfter, len(before["projects"]))
	}

	// A clone in progress (its lock held) is not swept.
	running := uuid.NewString()
	end, err := projectops.BeginIntentForTest(t.Context(), pg.DB, running, w.source)
	must(t, err)
	n, err := w.sys.SweepClones(t.Context())
	must(t, err)
	if n != 1 {
		t.Errorf("swept %d clones, want the dead one", n)
	}
	must(t, pg.DB.Raw(`SELECT COUNT(*) FROM clone_intents WHERE project_id = ?`, running).Scan(&intents).Error)
	if intents != 1 {
		t.Error("the sweep took the intent of a clone still running")
	}
	end()
	if n, err := w.sys.SweepClones(t.Context()); err != nil || n != 1 {
		t.Errorf("sweeping the finished one: %d, %v", n, err)
	}
	sameDump(t, before, dump(t, pg.DB), "a crashed clone, once swept,")
}

// TestCloneSourceIsReadOnly: the policies that let a clone read its source
// (enclave.clone_source) let nothing be written there, and without the
// setting a walled transaction still sees only its own project.
func TestCloneSourceIsReadOnly(t *testing.T) {
	pg, ok := testdb.Postgres(t)
	if !ok {
		return
	}
	w := newWorld(t, pg.DB)
	other := project(t, w.sys, w.operator, "Other")
	err := pg.DB.Transaction(func(tx *gorm.DB) error {
		must(t, kit.EnterWall(t.Context(), tx, "enclave.project_id", other))
		var n int64
		must(t, tx.Raw("SELECT COUNT(*) FROM resources WHERE project_id = ?", w.source).Scan(&n).Error)
		if n != 0 {
			t.Errorf("without enclave.clone_source the wall shows %d rows of another project", n)
		}
		must(t, tx.Exec("SELECT set_config('enclave.clone_source', ?, true)", w.source).Error)
		must(t, tx.Raw("SELECT COUNT(*) FROM resources WHERE project_id = ?", w.source).Scan(&n).Error)
		if n == 0 {
			t.Error("enclave.clone_source does not open the source for reading")
		}
		res := tx.Exec("UPDATE resources SET content = content WHERE project_id = ?", w.source)
		if res.Error == nil && res.RowsAffected != 0 {
			t.Errorf("updated %d rows of the source", res.RowsAffected)
		}
		res = tx.Exec("DELETE FROM resource_strings WHERE project_id = ?", w.source)
		if res.Error == nil && res.RowsAffected != 0 {
			t.Errorf("deleted %d index rows of the source", res.RowsAffected)
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	err = pg.DB.Transaction(func(tx *gorm.DB) error {
		must(t, kit.EnterWall(t.Context(), tx, "enclave.project_id", other))
		must(t, tx.Exec("SELECT set_config('enclave.clone_source', ?, true)", w.source).Error)
		return tx.Exec(`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
			VALUES (?, 'Patient', 'x', 1, now(), FALSE, '{}')`, w.source).Error
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("an insert into the source: %v", err)
	}
}

// TestCloneLeavesOthersServed: while a clone holds its transaction open
// (stopped here just after it wrote the copies), the source's resources
// are read and searched as usual and, on PostgreSQL, another project takes
// writes; the clone then finishes.
func TestCloneLeavesOthersServed(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.DB)
			other := project(t, w.sys, w.member, "Other clinic")
			reached, release := make(chan struct{}), make(chan struct{})
			restore := projectops.SetHook(func(step string) error {
				if step == "content" {
					close(reached)
					select {
					case <-release:
					case <-time.After(time.Minute):
						return errors.New("the test never let the clone go on")
					}
				}
				return nil
			})
			defer restore()
			done := make(chan error, 1)
			go func() {
				_, err := w.sys.CloneProject(context.Background(), w.box, projectops.CloneInput{SourceID: w.source, Actor: w.actor()})
				done <- err
			}()
			<-reached

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if r, err := w.sys.Tenant(w.source).ReadResource(ctx, "Patient", w.patient); err != nil || r.ID != w.patient {
				t.Errorf("reading the source during its clone: %v", err)
			}
			v := url.Values{"family": {"Quixote"}}
			q, err := resources.ParseSearch("Patient", v, false)
			must(t, err)
			if r, err := w.sys.Tenant(w.source).Search(ctx, q); err != nil || len(r.Resources) != 1 {
				t.Errorf("searching the source during its clone: %d found, %v", len(r.Resources), err)
			}
			if db.Name == "postgres" {
				if _, err := w.sys.Tenant(other).CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Busy"}]}`)); err != nil {
					t.Errorf("writing to another project during a clone: %v", err)
				}
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the clone: %v", err)
			}
		})
	}
}
