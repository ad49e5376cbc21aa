// Package promote compares two projects (dev, staging, prod copies of one
// another) and copies chosen items from one to the other: the settings the
// settings page edits, access policies, API clients (their settings, never
// their secrets) and secrets (by name; a value is copied inside the server,
// never shown). A promotion runs in one transaction, so a failure midway
// changes nothing, and is recorded in both projects' audit logs and, when a
// super admin does it, in the operator's log.
//
// Who may compare which projects is the web layer's business: super admins
// any two, other users two projects they are an admin of.
package promote

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kind is what an item of a comparison is.
type Kind string

const (
	Setting Kind = "setting"
	Policy  Kind = "policy"
	Client  Kind = "client"
	Secret  Kind = "secret"
)

// State is how an item of project A compares with project B's.
type State string

const (
	OnlyA   State = "only-a"
	OnlyB   State = "only-b"
	Differs State = "differs"
	Same    State = "same"
)

// The settings a comparison shows, by the names the settings page and the
// audit log give them.
const (
	SettingName                 = "name"
	SettingDescription          = "description"
	SettingStrictMode           = "strictMode"
	SettingCheckReferences      = "checkReferencesOnWrite"
	SettingDefaultPatientPolicy = "defaultPatientAccessPolicy"
	SettingFeatures             = "features"
	SettingSuperAdmin           = "superAdmin"
)

// Item is one thing the two projects are compared on.
type Item struct {
	Kind Kind
	Name string
	State
	// A and B show the item in each project: a setting's value, a policy's
	// rules or a client's settings as JSON; "" where the project does not
	// have it. A secret shows nothing of its value.
	A, B string
	// Promotable is false for what a promotion never copies (the
	// super-admin flag).
	Promotable bool
}

// Key names the item in a promotion's list: "kind:name".
func (i Item) Key() string { return string(i.Kind) + ":" + i.Name }

// Diff is the comparison of project A with project B.
type Diff struct {
	A, B  projects.Project
	Items []Item
}

// Changed counts the items that are not the same in both.
func (d Diff) Changed() int {
	n := 0
	for _, it := range d.Items {
		if it.State != Same {
			n++
		}
	}
	return n
}

// steps are a promotion's steps, which tests may fail (see kit.Steps).
var steps kit.Steps

// FindProject finds a project by its id or its exact name. A name that no
// project has is kit.ErrNotFound; one that several have is a
// ValidationError on field.
func FindProject(ctx context.Context, db *gorm.DB, field, ref string) (projects.Project, error) {
	ref = strings.TrimSpace(ref)
	var found []projects.Project
	q := db.WithContext(ctx).Limit(2)
	if kit.IsUUID(ref) {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("name = ?", kit.NormalizeName(ref))
	}
	if err := q.Find(&found).Error; err != nil {
		return projects.Project{}, err
	}
	switch len(found) {
	case 0:
		return projects.Project{}, kit.ErrNotFound
	case 1:
		return found[0], nil
	}
	return projects.Project{}, &kit.ValidationError{Fields: map[string]string{field: "Several projects are called " +
		kit.Quote(ref) + ": give the project's id instead."}}
}

// Compare compares project a with project b; box opens the secrets, whose
// values are compared in the server (nil: secrets are compared by name
// only). A missing project is kit.ErrNotFound.
func Compare(ctx context.Context, db *gorm.DB, box *secrets.Box, a, b string) (Diff, error) {
	if !kit.IsUUID(a) || !kit.IsUUID(b) {
		return Diff{}, kit.ErrNotFound
	}
	var d Diff
	err := reading(ctx, db, func(tx *gorm.DB) error {
		s, err := load(ctx, tx, box, a, b, false)
		d = s.diff
		return err
	})
	return d, err
}

// reading runs fn where the comparison sees one state of both projects: a
// read-only, repeatable-read transaction on PostgreSQL (the walls of its
// client reads need one); on SQLite the handle itself, since a transaction
// would take the database's write lock.
func reading(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if kit.DialectOf(db) != kit.Postgres {
		return fn(db.WithContext(ctx))
	}
	return db.WithContext(ctx).Transaction(fn, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
}

// sides is what a comparison read of both projects: the diff, and the
// rows a promotion copies from.
type sides struct {
	diff       Diff
	policies   [2][]resources.AccessPolicy
	clients    [2][]clients.Client
	policyName [2]map[string]string // id → name
}

// load reads both projects and compares them. With lock (inside a
// promotion's transaction) the project rows are locked until it ends, in
// the order of their ids, so that two promotions do not deadlock.
func load(ctx context.Context, tx *gorm.DB, box *secrets.Box, a, b string, lock bool) (sides, error) {
	var s sides
	var rows []projects.Project
	q := tx.WithContext(ctx).Where("id IN ?", []string{a, b}).Order("id")
	if lock && kit.DialectOf(tx) == kit.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Find(&rows).Error; err != nil {
		return s, err
	}
	for _, p := range rows {
		if p.ID == a {
			s.diff.A = p
		}
		if p.ID == b {
			s.diff.B = p
		}
	}
	if s.diff.A.ID == "" || s.diff.B.ID == "" {
		return s, kit.ErrNotFound
	}
	for i, id := range []string{a, b} {
		var err error
		project := kit.Bind(tx, id)
		if s.policies[i], err = resources.For(project).AccessPolicies(ctx); err != nil {
			return s, err
		}
		s.policyName[i] = map[string]string{}
		for _, p := range s.policies[i] {
			s.policyName[i][p.ID] = p.Name
		}
		// Behind each project's wall in turn, and out of it again.
		if s.clients[i], err = clients.For(project).Clients(ctx); err != nil {
			return s, err
		}
	}
	pairs, err := secrets.ComparePair(ctx, tx, box, a, b)
	if err != nil {
		return s, err
	}
	s.diff.Items = append(s.diff.Items, s.settingItems()...)
	s.diff.Items = append(s.diff.Items, s.policyItems()...)
	s.diff.Items = append(s.diff.Items, s.clientItems()...)
	for _, p := range pairs {
		it := Item{Kind: Secret, Name: p.Name, Promotable: true}
		if p.InA {
			it.A = "set"
		}
		if p.InB {
			it.B = "set"
		}
		it.State = stateOf(p.InA, p.InB, p.Same)
		s.diff.Items = append(s.diff.Items, it)
	}
	return s, nil
}

func stateOf(inA, inB, same bool) State {
	switch {
	case !inB:
		return OnlyA
	case !inA:
		return OnlyB
	case same:
		return Same
	}
	return Differs
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// settingItems compares the settings; the default patient policy by its
// name, since each project has its own ids.
func (s sides) settingItems() []Item {
	shown := func(i int, p projects.Project) map[string]string {
		features := slices.Clone([]string(p.Features))
		slices.Sort(features)
		policy := "none"
		if id := p.DefaultPatientAccessPolicy; id != nil {
			policy = s.policyName[i][*id]
		}
		f := strings.Join(features, ", ")
		if f == "" {
			f = "none"
		}
		return map[string]string{SettingName: p.Name, SettingDescription: p.Description, SettingStrictMode: onOff(p.StrictMode),
			SettingCheckReferences: onOff(p.CheckReferencesOnWrite), SettingDefaultPatientPolicy: policy,
			SettingFeatures: f, SettingSuperAdmin: onOff(p.SuperAdmin)}
	}
	a, b := shown(0, s.diff.A), shown(1, s.diff.B)
	var out []Item
	for _, name := range []string{SettingName, SettingDescription, SettingStrictMode, SettingCheckReferences,
		SettingDefaultPatientPolicy, SettingFeatures, SettingSuperAdmin} {
		out = append(out, Item{Kind: Setting, Name: name, State: stateOf(true, true, a[name] == b[name]),
			A: a[name], B: b[name], Promotable: name != SettingSuperAdmin})
	}
	return out
}

// pairUp compares two lists by name, with each side's shown form.
func pairUp(kind Kind, a, b map[string]string) []Item {
	names := make([]string, 0, len(a)+len(b))
	for n := range a {
		names = append(names, n)
	}
	for n := range b {
		if _, ok := a[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := make([]Item, 0, len(names))
	for _, n := range names {
		x, inA := a[n]
		y, inB := b[n]
		out = append(out, Item{Kind: kind, Name: n, State: stateOf(inA, inB, x == y), A: x, B: y, Promotable: true})
	}
	return out
}

func shownJSON(v any) string {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(out)
}

func (s sides) policyItems() []Item {
	var shown [2]map[string]string
	for i := range shown {
		shown[i] = map[string]string{}
		for _, p := range s.policies[i] {
			rules := p.Rules
			if rules == nil {
				rules = resources.PolicyRules{}
			}
			shown[i][p.Name] = shownJSON(rules)
		}
	}
	return pairUp(Policy, shown[0], shown[1])
}

// clientSettings is what a comparison shows of a client: never a secret.
type clientSettings struct {
	Description   string   `json:"description"`
	RedirectURIs  []string `json:"redirectUris"`
	AccessPolicy  string   `json:"accessPolicy"`
	TokenLifetime string   `json:"tokenLifetime"`
	Enabled       bool     `json:"enabled"`
}

func (s sides) clientItems() []Item {
	var shown [2]map[string]string
	for i := range shown {
		shown[i] = map[string]string{}
		for _, c := range s.clients[i] {
			cs := clientSettings{Description: c.Description, RedirectURIs: c.RedirectURIs, AccessPolicy: "none",
				TokenLifetime: c.TokenLifetime.String(), Enabled: c.Enabled}
			if cs.RedirectURIs == nil {
				cs.RedirectURIs = []string{}
			}
			if c.AccessPolicyID != nil {
				cs.AccessPolicy = s.policyName[i][*c.AccessPolicyID]
			}
			shown[i][c.Name] = shownJSON(cs)
		}
	}
	return pairUp(Client, shown[0], shown[1])
}

// Input is a promotion: the chosen items of From copied to To.
type Input struct {
	From, To string
	// Items are the chosen items' keys (Item.Key).
	Items []string
	// Confirm must be the name of the target project, To.
	Confirm string
	Actor   audit.Actor
	// SuperAdmin says the actor is a super admin: they may promote
	// features, and the promotion is in the operator's log too.
	SuperAdmin bool
}

// Result is what a promotion did.
type Result struct {
	// From and To are the projects as they were before it, by the names
	// the promotion was confirmed with and its audit events give them.
	From, To projects.Project
	// Items are the promoted items, as they compared before.
	Items []Item
	// NewClients names the clients it made in To: each has a secret
	// nobody knows until an admin of To rotates it.
	NewClients []string
}

// Promote copies the chosen items of in.From to in.To in one transaction:
// settings fields (the default patient policy by its name: To must have,
// or get in the same promotion, a policy of that name), access policies and
// clients made or replaced by name (a client's policy by name likewise),
// and secrets' values, opened and sealed again with box. Nothing is
// deleted: an item only the target has stays. A typed name that is not
// To's, an empty or unknown choice, or an item that cannot be copied is a
// ValidationError ("confirm", "items") and changes nothing.
func Promote(ctx context.Context, db *gorm.DB, box *secrets.Box, in Input) (Result, error) {
	if !kit.IsUUID(in.From) || !kit.IsUUID(in.To) {
		return Result{}, kit.ErrNotFound
	}
	if in.From == in.To {
		return Result{}, &kit.ValidationError{Fields: map[string]string{"items": "A project cannot be promoted to itself: choose two projects."}}
	}
	// Policies, clients and settings change who may do what: caches of
	// resolved callers must not keep what they read before the commit.
	defer kit.BumpAuthEpoch()
	p := promotion{ctx: ctx, box: box, in: in}
	if err := db.WithContext(ctx).Transaction(p.within); err != nil {
		return Result{}, err
	}
	return p.result, nil
}

// promotion is one promotion in progress, inside its transaction.
type promotion struct {
	ctx context.Context
	tx  *gorm.DB
	box *secrets.Box
	in  Input
	s   sides
	// chosen are the chosen items by kind, in the diff's order.
	chosen map[Kind][]Item
	result Result
	// targetPolicies maps the target's policy names to their ids, as the
	// promotion leaves them.
	targetPolicies map[string]string
}

// within runs the promotion in the transaction tx.
func (p *promotion) within(tx *gorm.DB) error {
	p.tx = tx
	var err error
	p.result, err = p.run()
	return err
}

func (p *promotion) run() (Result, error) {
	var err error
	if p.s, err = load(p.ctx, p.tx, p.box, p.in.From, p.in.To, true); err != nil {
		return Result{}, err
	}
	from, to := p.s.diff.A, p.s.diff.B
	if err := p.choose(); err != nil {
		return Result{}, err
	}
	p.targetPolicies = map[string]string{}
	for _, pol := range p.s.policies[1] {
		p.targetPolicies[pol.Name] = pol.ID
	}
	if err := p.copyPolicies(); err != nil {
		return Result{}, err
	}
	if err := steps.Reach("policies"); err != nil {
		return Result{}, err
	}
	if err := p.copySettings(); err != nil {
		return Result{}, err
	}
	if err := steps.Reach("settings"); err != nil {
		return Result{}, err
	}
	made, err := p.copyClients()
	if err != nil {
		return Result{}, err
	}
	if err := steps.Reach("clients"); err != nil {
		return Result{}, err
	}
	var names []string
	for _, it := range p.chosen[Secret] {
		names = append(names, it.Name)
	}
	if err := secrets.CopyByName(p.ctx, p.tx, p.box, from.ID, to.ID, names, p.in.Actor); err != nil {
		return Result{}, err
	}
	if err := steps.Reach("secrets"); err != nil {
		return Result{}, err
	}
	res := Result{From: from, To: to, NewClients: made}
	keys := []string{}
	for _, k := range []Kind{Setting, Policy, Client, Secret} {
		for _, it := range p.chosen[k] {
			res.Items = append(res.Items, it)
			keys = append(keys, it.Key())
		}
	}
	details := map[string]any{"from": from.ID, "fromName": from.Name, "to": to.ID, "toName": to.Name, "items": keys}
	if len(made) > 0 {
		details["newClients"] = made
	}
	if err := audit.Record(p.ctx, kit.Bind(p.tx, to.ID), p.in.Actor, audit.ActionProjectPromoted, from.Name, details); err != nil {
		return Result{}, err
	}
	if err := audit.Record(p.ctx, kit.Bind(p.tx, from.ID), p.in.Actor, audit.ActionProjectPromoted, to.Name, details); err != nil {
		return Result{}, err
	}
	if p.in.SuperAdmin {
		// The operator's line is about the target, and keeps its name for
		// when it is expunged.
		details["name"] = to.Name
		if err := audit.RecordOperator(p.ctx, p.tx, p.in.Actor, audit.ActionProjectPromoted, "Project/"+to.ID, details); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// choose checks the typed name and the chosen items against the diff.
func (p *promotion) choose() error {
	v := &kit.ValidationError{}
	to := p.s.diff.B
	if kit.NormalizeName(p.in.Confirm) != to.Name {
		v.Add("confirm", "Type the name of the project you promote to, "+kit.Quote(to.Name)+", to confirm.")
	}
	byKey := map[string]Item{}
	for _, it := range p.s.diff.Items {
		byKey[it.Key()] = it
	}
	p.chosen = map[Kind][]Item{}
	want := map[string]bool{}
	for _, k := range p.in.Items {
		want[k] = true
	}
	if len(want) == 0 {
		v.Add("items", "Choose at least one item to promote.")
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		it, ok := byKey[k]
		switch {
		case !ok:
			problems = append(problems, kit.Quote(k)+" is in neither project")
		case !it.Promotable:
			problems = append(problems, "the "+string(it.Kind)+" "+kit.Quote(it.Name)+" is never promoted")
		case it.State == Same:
			problems = append(problems, "the "+string(it.Kind)+" "+kit.Quote(it.Name)+" is already the same")
		case it.State == OnlyB:
			problems = append(problems, "the "+string(it.Kind)+" "+kit.Quote(it.Name)+" is only in "+kit.Quote(to.Name))
		case it.Kind == Setting && it.Name == SettingFeatures && !p.in.SuperAdmin:
			problems = append(problems, "only a super admin can promote features")
		}
	}
	for _, it := range p.s.diff.Items {
		if want[it.Key()] {
			p.chosen[it.Kind] = append(p.chosen[it.Kind], it)
		}
	}
	if len(problems) > 0 {
		v.Add("items", "Not promoted: "+strings.Join(problems, "; ")+".")
	}
	return v.Err()
}

// copyPolicies makes or replaces the chosen policies in the target by
// name. Their criteria are copied as they are.
func (p *promotion) copyPolicies() error {
	src := map[string]resources.AccessPolicy{}
	for _, pol := range p.s.policies[0] {
		src[pol.Name] = pol
	}
	now := kit.Now()
	to := p.s.diff.B.ID
	for _, it := range p.chosen[Policy] {
		pol := src[it.Name]
		rules := slices.Clone(pol.Rules)
		for i := range rules {
			rules[i].HiddenFields = slices.Clone(rules[i].HiddenFields)
		}
		if id, ok := p.targetPolicies[it.Name]; ok {
			err := p.tx.WithContext(p.ctx).Model(&resources.AccessPolicy{}).Where("project_id = ? AND id = ?", to, id).
				Updates(map[string]any{"rules": resources.PolicyRules(rules), "updated_at": now}).Error
			if err != nil {
				return err
			}
			continue
		}
		n := resources.AccessPolicy{ID: uuid.NewString(), ProjectID: to, Name: pol.Name, Rules: rules, CreatedAt: now, UpdatedAt: now}
		if err := p.tx.WithContext(p.ctx).Create(&n).Error; err != nil {
			return err
		}
		p.targetPolicies[n.Name] = n.ID
	}
	return nil
}

// targetPolicy is the target's id of the source's policy id, by name; nil
// for none.
func (p *promotion) targetPolicy(what string, sourceID *string) (*string, error) {
	if sourceID == nil {
		return nil, nil
	}
	name := p.s.policyName[0][*sourceID]
	id, ok := p.targetPolicies[name]
	if !ok {
		return nil, &kit.ValidationError{Fields: map[string]string{"items": what + " uses the access policy " + kit.Quote(name) +
			", which " + kit.Quote(p.s.diff.B.Name) + " does not have: promote that policy too."}}
	}
	return &id, nil
}

// copySettings applies the chosen settings to the target.
func (p *promotion) copySettings() error {
	if len(p.chosen[Setting]) == 0 {
		return nil
	}
	from, cur := p.s.diff.A, p.s.diff.B
	next := cur
	for _, it := range p.chosen[Setting] {
		switch it.Name {
		case SettingName:
			next.Name = from.Name
		case SettingDescription:
			next.Description = from.Description
		case SettingStrictMode:
			next.StrictMode = from.StrictMode
		case SettingCheckReferences:
			next.CheckReferencesOnWrite = from.CheckReferencesOnWrite
		case SettingDefaultPatientPolicy:
			id, err := p.targetPolicy("The default patient access policy", from.DefaultPatientAccessPolicy)
			if err != nil {
				return err
			}
			next.DefaultPatientAccessPolicy = id
		case SettingFeatures:
			next.Features = append(kit.StringList{}, from.Features...)
		}
	}
	next.Version = cur.Version + 1
	next.UpdatedAt = kit.Now()
	return p.tx.WithContext(p.ctx).Model(&projects.Project{}).Where("id = ?", cur.ID).
		Select("name", "description", "strict_mode", "check_references_on_write", "default_patient_access_policy",
			"features", "version", "updated_at").Updates(&next).Error
}

// copyClients makes or updates the chosen clients in the target by name,
// and returns the names of those it made.
func (p *promotion) copyClients() ([]string, error) {
	src := map[string]clients.Client{}
	for _, c := range p.s.clients[0] {
		src[c.Name] = c
	}
	var made []string
	for _, it := range p.chosen[Client] {
		c := src[it.Name]
		policy, err := p.targetPolicy("The client "+kit.Quote(c.Name), c.AccessPolicyID)
		if err != nil {
			return nil, err
		}
		created, err := clients.PutByName(p.ctx, p.tx, p.s.diff.B.ID, c, policy, p.in.Actor)
		if err != nil {
			return nil, err
		}
		if created {
			made = append(made, c.Name)
		}
	}
	return made, nil
}
