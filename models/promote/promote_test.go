package promote_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/promote"
	"enclave/models/resources"
	"enclave/models/secrets"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

// stage is a dev and a prod project of one team, set up to differ in every
// kind of item, and the team's admin.
type stage struct {
	db        *gorm.DB
	sys       models.System
	box       *secrets.Box
	admin     accounts.User
	dev, prod string
	// devSync is dev's client "Sync", whose secret devSecret is.
	devSync   clients.Client
	devSecret string
	// prodReaders is the id of prod's policy "Readers".
	prodReaders string
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newStage(t *testing.T, db *gorm.DB) *stage {
	t.Helper()
	ctx := t.Context()
	s := &stage{db: db, sys: models.NewSystem(db)}
	key, err := secrets.GenerateKey()
	check(t, err)
	s.box, err = secrets.NewBox(key)
	check(t, err)
	s.admin, err = s.sys.CreateUser(ctx, accounts.NewUser{FirstName: "Ada", LastName: "Admin", Email: "ada@example.org", Password: "password-123"})
	check(t, err)
	mk := func(name, description string) string {
		p, err := s.sys.CreateProject(ctx, s.admin.ID, projects.NewProject{Name: name, Description: description})
		check(t, err)
		return p.ID
	}
	s.dev, s.prod = mk("Clinic dev", "Where we try things"), mk("Clinic prod", "The real one")
	dev, prod := s.sys.Tenant(s.dev), s.sys.Tenant(s.prod)
	a := audit.Actor{}

	policy := func(tn models.Tenant, name string, rules ...resources.PolicyRule) string {
		p, err := tn.CreateAccessPolicy(ctx, a, resources.PolicyInput{Name: name, Rules: rules})
		check(t, err)
		return p.ID
	}
	devReaders := policy(dev, "Readers", resources.PolicyRule{ResourceType: "Patient", ReadOnly: true},
		resources.PolicyRule{ResourceType: "Observation", ReadOnly: true})
	s.prodReaders = policy(prod, "Readers", resources.PolicyRule{ResourceType: "Patient", ReadOnly: true})
	patients := policy(dev, "Patients", resources.PolicyRule{ResourceType: "Patient"})
	policy(prod, "Legacy", resources.PolicyRule{ResourceType: "Encounter"})
	policy(dev, "Same rules", resources.PolicyRule{ResourceType: "Device"})
	policy(prod, "Same rules", resources.PolicyRule{ResourceType: "Device"})
	check(t, db.Exec("UPDATE projects SET strict_mode = ?, features = ?, default_patient_access_policy = ? WHERE id = ?",
		false, kit.StringList{"bots"}, patients, s.dev).Error)

	s.devSync, s.devSecret, err = dev.CreateClient(ctx, a, clients.Input{Name: "Sync", Description: "New sync", AccessPolicyID: devReaders})
	check(t, err)
	_, _, err = prod.CreateClient(ctx, a, clients.Input{Name: "Sync", Description: "Old sync"})
	check(t, err)
	_, _, err = dev.CreateClient(ctx, a, clients.Input{Name: "Reports", RedirectURIs: []string{"https://reports.example.org/cb"}, AccessPolicyID: patients})
	check(t, err)

	secret := func(tn models.Tenant, name, value string) {
		_, err := tn.Secrets(s.box).Create(ctx, a, name, value)
		check(t, err)
	}
	secret(dev, "API_KEY", "shared-value-0001")
	secret(prod, "API_KEY", "shared-value-0001")
	secret(dev, "DB_URL", "postgres://dev-secret-host")
	secret(prod, "DB_URL", "postgres://prod-secret-host")
	secret(dev, "ONLY_DEV", "dev-only-secret-value")
	return s
}

func (s *stage) actor() audit.Actor {
	return audit.Actor{UserID: s.admin.ID, Email: s.admin.Email, IP: "192.0.2.7"}
}

// states reads a diff as "kind:name" → state.
func states(d promote.Diff) map[string]promote.State {
	out := map[string]promote.State{}
	for _, it := range d.Items {
		out[it.Key()] = it.State
	}
	return out
}

// TestCompare: each kind of item is told only-in-A, only-in-B, differs or
// same, secrets by their values compared in the server, and no secret value
// is in the diff.
func TestCompare(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			s := newStage(t, db.DB)
			d, err := s.sys.CompareProjects(t.Context(), s.box, s.dev, s.prod)
			check(t, err)
			if d.A.ID != s.dev || d.B.ID != s.prod {
				t.Fatalf("compared %s with %s", d.A.ID, d.B.ID)
			}
			want := map[string]promote.State{
				"setting:name": promote.Differs, "setting:description": promote.Differs, "setting:strictMode": promote.Differs,
				"setting:checkReferencesOnWrite": promote.Same, "setting:defaultPatientAccessPolicy": promote.Differs,
				"setting:features": promote.Differs, "setting:superAdmin": promote.Same,
				"policy:Readers": promote.Differs, "policy:Patients": promote.OnlyA, "policy:Legacy": promote.OnlyB,
				"policy:Same rules": promote.Same,
				"client:Sync":       promote.Differs, "client:Reports": promote.OnlyA,
				"secret:API_KEY": promote.Same, "secret:DB_URL": promote.Differs, "secret:ONLY_DEV": promote.OnlyA,
			}
			got := states(d)
			for k, st := range want {
				if got[k] != st {
					t.Errorf("%s: %q, want %q", k, got[k], st)
				}
			}
			if len(got) != len(want) {
				t.Errorf("the diff has %d items, want %d: %v", len(got), len(want), got)
			}
			for _, it := range d.Items {
				for _, v := range []string{"shared-value-0001", "dev-secret-host", "prod-secret-host", "dev-only-secret-value", s.devSecret} {
					if strings.Contains(it.A+it.B, v) {
						t.Errorf("%s shows a secret: %q / %q", it.Key(), it.A, it.B)
					}
				}
				if it.Key() == "setting:defaultPatientAccessPolicy" && (it.A != "Patients" || it.B != "none") {
					t.Errorf("the default patient policy is shown by name: %q / %q", it.A, it.B)
				}
				if it.Key() == "client:Sync" && (!strings.Contains(it.A, `"accessPolicy": "Readers"`) || !strings.Contains(it.B, "Old sync")) {
					t.Errorf("client Sync shown as %q / %q", it.A, it.B)
				}
				if it.Key() == "setting:superAdmin" && it.Promotable {
					t.Error("the super-admin flag is offered for promotion")
				}
			}

			// The other way round, only-in-A and only-in-B swap.
			back, err := s.sys.CompareProjects(t.Context(), s.box, s.prod, s.dev)
			check(t, err)
			if st := states(back); st["policy:Patients"] != promote.OnlyB || st["policy:Legacy"] != promote.OnlyA {
				t.Errorf("reversed: %v", st)
			}
			if _, err := s.sys.CompareProjects(t.Context(), s.box, s.dev, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a missing project: %v", err)
			}
		})
	}
}

// TestPromote: the chosen items are copied by name (policies replaced in
// place, a default policy and clients' policies mapped by name, a new
// client with a secret of its own, a secret's value re-sealed), nothing
// else changes, and both projects' logs and the operator's record it.
func TestPromote(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			s := newStage(t, db.DB)
			items := []string{"setting:description", "setting:strictMode", "setting:defaultPatientAccessPolicy", "setting:features",
				"policy:Readers", "policy:Patients", "client:Sync", "client:Reports", "secret:DB_URL", "secret:ONLY_DEV"}
			res, err := s.sys.PromoteProjects(ctx, s.box, promote.Input{From: s.dev, To: s.prod, Items: items,
				Confirm: "Clinic prod", Actor: s.actor(), SuperAdmin: true})
			check(t, err)
			if len(res.Items) != len(items) || !slices.Equal(res.NewClients, []string{"Reports"}) {
				t.Errorf("result: %d items, new clients %v", len(res.Items), res.NewClients)
			}

			d, err := s.sys.CompareProjects(ctx, s.box, s.dev, s.prod)
			check(t, err)
			st := states(d)
			for _, k := range items {
				if st[k] != promote.Same {
					t.Errorf("after promotion %s is %q", k, st[k])
				}
			}
			// What was not chosen stays as it was.
			for k, want := range map[string]promote.State{"setting:name": promote.Differs, "policy:Legacy": promote.OnlyB,
				"secret:API_KEY": promote.Same} {
				if st[k] != want {
					t.Errorf("%s became %q", k, st[k])
				}
			}

			prod := s.sys.Tenant(s.prod)
			p, err := prod.Project(ctx)
			check(t, err)
			if p.Name != "Clinic prod" || p.Description != "Where we try things" || p.StrictMode || p.Version != 2 ||
				!slices.Equal([]string(p.Features), []string{"bots"}) {
				t.Errorf("prod's settings: %+v", p)
			}
			pols, err := prod.AccessPolicies(ctx)
			check(t, err)
			ids := map[string]string{}
			for _, pol := range pols {
				ids[pol.Name] = pol.ID
			}
			if ids["Readers"] != s.prodReaders {
				t.Errorf("Readers was replaced by a new policy (%s, was %s)", ids["Readers"], s.prodReaders)
			}
			if kit.Deref(p.DefaultPatientAccessPolicy) != ids["Patients"] || ids["Patients"] == "" {
				t.Errorf("prod's default patient policy is %q, its Patients policy %q", kit.Deref(p.DefaultPatientAccessPolicy), ids["Patients"])
			}
			cs, err := prod.Clients(ctx)
			check(t, err)
			byName := map[string]clients.Client{}
			for _, c := range cs {
				byName[c.Name] = c
			}
			if c := byName["Sync"]; c.Description != "New sync" || kit.Deref(c.AccessPolicyID) != s.prodReaders || c.ID == s.devSync.ID {
				t.Errorf("prod's Sync: %+v", c)
			}
			if c := byName["Reports"]; c.ID == "" || kit.Deref(c.AccessPolicyID) != ids["Patients"] || !slices.Equal(c.RedirectURIs, []string{"https://reports.example.org/cb"}) {
				t.Errorf("prod's new Reports: %+v", c)
			}
			// Secrets of clients are never copied: dev's Sync secret opens
			// neither of prod's clients.
			for _, c := range cs {
				if _, err := s.sys.AuthenticateClient(ctx, c.ID, s.devSecret); err == nil {
					t.Errorf("dev's client secret signs in as prod's %s", c.Name)
				}
			}
			for name, want := range map[string]string{"DB_URL": "postgres://dev-secret-host", "ONLY_DEV": "dev-only-secret-value", "API_KEY": "shared-value-0001"} {
				v, err := prod.Secrets(s.box).Value(ctx, name)
				check(t, err)
				if v != want {
					t.Errorf("prod's %s opens to %q", name, v)
				}
			}
			// Dev is untouched.
			if v, err := s.sys.Tenant(s.dev).Secrets(s.box).Value(ctx, "DB_URL"); err != nil || v != "postgres://dev-secret-host" {
				t.Errorf("dev's DB_URL: %q, %v", v, err)
			}

			for _, id := range []string{s.dev, s.prod} {
				evs, _, err := s.sys.Tenant(id).AuditLog(ctx, audit.Filter{Action: audit.ActionProjectPromoted})
				check(t, err)
				if len(evs) != 1 || !strings.Contains(evs[0].Details, "client:Reports") || kit.Deref(evs[0].UserID) != s.admin.ID {
					t.Errorf("project %s's log of the promotion: %+v", id, evs)
				}
			}
			ops, err := audit.OperatorLog(ctx, db.DB, 10)
			check(t, err)
			if len(ops) != 1 || ops[0].Action != audit.ActionProjectPromoted || ops[0].Target != "Project/"+s.prod || ops[0].ProjectName != "Clinic prod" {
				t.Errorf("the operator's log: %+v", ops)
			}

			// An admin who is not a super admin is not in the operator's
			// log.
			res, err = s.sys.PromoteProjects(ctx, s.box, promote.Input{From: s.dev, To: s.prod, Items: []string{"setting:name"},
				Confirm: "Clinic prod", Actor: s.actor()})
			check(t, err)
			if res.To.Name != "Clinic prod" {
				t.Errorf("the result names the renamed target %q, not the name it was confirmed with", res.To.Name)
			}
			if ops, err := audit.OperatorLog(ctx, db.DB, 10); err != nil || len(ops) != 1 {
				t.Errorf("the operator's log after an admin's promotion: %d lines, %v", len(ops), err)
			}
			if p, err := prod.Project(ctx); err != nil || p.Name != "Clinic dev" {
				t.Errorf("prod's name after promoting it: %q, %v", p.Name, err)
			}
		})
	}
}

// TestPromoteRefuses: a wrong typed name, no choice, and choices that
// cannot be copied are refused by field, and change nothing.
func TestPromoteRefuses(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			s := newStage(t, db.DB)
			// A value that does not open with the key is not copied.
			check(t, db.DB.Exec("UPDATE project_secrets SET ciphertext = ? WHERE project_id = ? AND name = ?",
				[]byte("not sealed with any key at all"), s.dev, "ONLY_DEV").Error)
			before := snapshot(t, db.DB)
			for _, c := range []struct {
				name, field, msg string
				in               promote.Input
			}{
				{"wrong name", "confirm", "Clinic prod", promote.Input{Items: []string{"setting:description"}, Confirm: "Clinic dev"}},
				{"no items", "items", "at least one", promote.Input{Confirm: "Clinic prod"}},
				{"unknown item", "items", "neither project", promote.Input{Items: []string{"policy:Nope"}, Confirm: "Clinic prod"}},
				{"only in target", "items", "only in", promote.Input{Items: []string{"policy:Legacy"}, Confirm: "Clinic prod"}},
				{"same", "items", "already the same", promote.Input{Items: []string{"secret:API_KEY"}, Confirm: "Clinic prod"}},
				{"super-admin flag", "items", "never promoted", promote.Input{Items: []string{"setting:superAdmin"}, Confirm: "Clinic prod"}},
				{"features by an admin", "items", "only a super admin", promote.Input{Items: []string{"setting:features"}, Confirm: "Clinic prod"}},
				{"default policy without it", "items", "promote that policy too",
					promote.Input{Items: []string{"setting:description", "setting:defaultPatientAccessPolicy"}, Confirm: "Clinic prod"}},
				{"client without its policy", "items", "promote that policy too", promote.Input{Items: []string{"client:Reports"}, Confirm: "Clinic prod"}},
				{"a secret that does not open", "items", "cannot be opened", promote.Input{Items: []string{"secret:ONLY_DEV"}, Confirm: "Clinic prod"}},
			} {
				in := c.in
				in.From, in.To, in.Actor = s.dev, s.prod, s.actor()
				_, err := s.sys.PromoteProjects(t.Context(), s.box, in)
				if msg := kit.FieldErrors(err)[c.field]; !strings.Contains(msg, c.msg) {
					t.Errorf("%s: %v", c.name, err)
				}
			}
			// A server without a secrets key copies no secret, and says
			// so at the choice rather than failing the page.
			_, err := s.sys.PromoteProjects(t.Context(), nil, promote.Input{From: s.dev, To: s.prod, Actor: s.actor(),
				Items: []string{"setting:description", "secret:DB_URL"}, Confirm: "Clinic prod"})
			if msg := kit.FieldErrors(err)["items"]; !strings.Contains(msg, "no secrets key") {
				t.Errorf("a secret without a key: %v", err)
			}
			same(t, before, snapshot(t, db.DB), "refused promotions")
		})
	}
}

// TestPromoteIsAtomic: a failure at any step leaves both projects, their
// logs and the operator's log as they were.
func TestPromoteIsAtomic(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			s := newStage(t, db.DB)
			before := snapshot(t, db.DB)
			everything := promote.Input{From: s.dev, To: s.prod, Confirm: "Clinic prod", Actor: s.actor(), SuperAdmin: true,
				Items: []string{"setting:description", "setting:defaultPatientAccessPolicy", "policy:Readers", "policy:Patients",
					"client:Sync", "client:Reports", "secret:DB_URL", "secret:ONLY_DEV"}}
			for _, step := range []string{"policies", "settings", "clients", "secrets"} {
				_, err := failingAt(step, func() (promote.Result, error) { return s.sys.PromoteProjects(t.Context(), s.box, everything) })
				if err == nil || !strings.Contains(err.Error(), "injected failure at "+step) {
					t.Fatalf("failing at %s: %v", step, err)
				}
				same(t, before, snapshot(t, db.DB), "a promotion failing at "+step)
			}
		})
	}
}

// failingAt runs act with a failure injected at step.
func failingAt(step string, act func() (promote.Result, error)) (promote.Result, error) {
	defer promote.SetHook(func(at string) error {
		if at != step {
			return nil
		}
		return fmt.Errorf("injected failure at %s", at)
	})()
	return act()
}

// snapshot is every row of every table, as text, table by table.
func snapshot(t *testing.T, db *gorm.DB) map[string]string {
	t.Helper()
	list := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if kit.DialectOf(db) == kit.Postgres {
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	var tables []string
	check(t, db.Raw(list).Scan(&tables).Error)
	out := make(map[string]string, len(tables))
	for _, table := range tables {
		var rows []map[string]any
		check(t, db.Table(table).Find(&rows).Error)
		lines := make([]string, 0, len(rows))
		for _, r := range rows {
			lines = append(lines, fmt.Sprint(r))
		}
		slices.Sort(lines)
		out[table] = strings.Join(lines, "\n")
	}
	return out
}

func same(t *testing.T, before, after map[string]string, what string) {
	t.Helper()
	for table, rows := range after {
		if before[table] != rows {
			t.Errorf("%s changed table %s", what, table)
		}
	}
}
