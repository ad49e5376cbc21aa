package projectops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CloneInput is what a clone asks for. The filters follow Medplum's $clone
// parameters.
type CloneInput struct {
	// SourceID is the project to copy.
	SourceID string
	// Name is the copy's name; empty keeps the source's.
	Name string
	// ResourceTypes, when not empty, limits the copied resources to these
	// types.
	ResourceTypes []string
	// IncludeIDs, when not empty, limits the copied resources to these ids;
	// ExcludeIDs leaves these out.
	IncludeIDs, ExcludeIDs []string
	// Memberships copies every membership of the source (with its profile
	// resource, whatever the filters). Without it the copy has one member:
	// the caller, as admin.
	Memberships bool
	// Actor is the super admin who asks; they become an admin of the copy.
	Actor audit.Actor
	// Progress, when set, is told how far the clone has come: at each step,
	// and after each batch of resources. It is called on the clone's own
	// goroutine and must not block.
	Progress func(Progress)
}

// Progress is how far a clone has come: its step, and of the resources
// it copies, how many are copied and how many there are in all.
type Progress struct {
	Step        string
	Done, Total int
}

// The steps of a clone, as Progress names them.
const (
	StepResources = "Copying resources"
	StepIndex     = "Copying search indexes"
	StepSettings  = "Copying access policies, secrets and API clients"
	StepMembers   = "Copying memberships"
)

// report tells in.Progress, if any, where the clone is.
func (c *cloner) report(step string, done int) {
	if c.in.Progress != nil {
		c.in.Progress(Progress{Step: step, Done: done, Total: c.total})
	}
}

// Validate normalises the input and reports what is wrong with it, by
// parameter name.
func (in *CloneInput) Validate() error {
	v := &kit.ValidationError{}
	if strings.TrimSpace(in.Name) != "" {
		in.Name = kit.CheckName(v, "name", "Project name", in.Name, projects.MaxProjectNameLength)
	}
	for _, t := range in.ResourceTypes {
		if !fhir.IsResourceType(t) || fhir.IsSystemType(t) {
			v.Add("resourceTypes", fmt.Sprintf("%q is not a resource type a project holds.", t))
		}
	}
	if in.Actor.UserID == "" {
		v.Add("actor", "A clone is made by a signed-in super admin.")
	}
	return v.Err()
}

// CloneResult is the new project and what was copied into it.
type CloneResult struct {
	Project     projects.Project
	Resources   int
	Policies    int
	Secrets     int
	Clients     int
	Memberships int
}

// Clone copies project in.SourceID into a new project, atomically (see the
// package comment); box opens and seals the secrets. The copy keeps
// the source's settings but not its super-admin flag; each copied resource
// becomes version 1 of a new id at the clone's time, its history that one
// version, and every reference to another copied resource points at the
// copy (in access policies' criteria too). Invitations, audit events and
// project-scoped accounts are not copied. A missing source is
// kit.ErrNotFound.
func Clone(ctx context.Context, db *gorm.DB, box *secrets.Box, in CloneInput) (CloneResult, error) {
	if err := in.Validate(); err != nil {
		return CloneResult{}, err
	}
	if !kit.IsUUID(in.SourceID) {
		return CloneResult{}, kit.ErrNotFound
	}
	defer kit.BumpAuthEpoch()
	pg := kit.DialectOf(db) == kit.Postgres
	dst := uuid.NewString()
	var opts []*sql.TxOptions
	withCrew := crewMembers(db) > 0
	if pg {
		// Every read of the source sees one snapshot, whatever is written
		// to it meanwhile (the index crew's reads too: see crew.go).
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	}
	if withCrew {
		end, err := beginIntent(ctx, db, dst, in.SourceID)
		if err != nil {
			return CloneResult{}, err
		}
		defer end()
	}
	var out CloneResult
	var k *crew
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c := cloner{ctx: ctx, root: db, tx: tx, box: box, in: in, pg: pg, dstID: dst, withCrew: withCrew}
		defer func() { k = c.crew }()
		var err error
		if out, err = c.run(); err != nil {
			return err
		}
		if c.crew == nil {
			return nil
		}
		if err := c.crew.commit(); err != nil {
			return err
		}
		return reach("index committed")
	}, opts...)
	if k != nil {
		if err != nil {
			k.abort()
		} else {
			k.release()
		}
	}
	if err != nil {
		if withCrew && !crash {
			// Whatever the crew committed goes, and the intent with it;
			// should that fail too, SweepClones sees to it later.
			if derr := dropCrewRows(context.WithoutCancel(ctx), db, dst); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		return CloneResult{}, err
	}
	return out, nil
}

// cloner is one clone in progress, inside its transaction.
type cloner struct {
	ctx context.Context
	// root is the database tx belongs to; the index crew (crew.go), on
	// PostgreSQL, takes connections of its own from it.
	root  *gorm.DB
	tx    *gorm.DB
	box   *secrets.Box
	in    CloneInput
	pg    bool
	dstID string
	// withCrew says that a crew copies the index rows (see crew.go), crew
	// is that crew once started.
	withCrew bool
	crew     *crew

	src, dst projects.Project
	now      time.Time
	at       stamp
	ids      idMap
	// total and done count the resources to copy and those copied.
	total, done int
}

func (c *cloner) run() (CloneResult, error) {
	ctx, tx := c.ctx, c.tx
	q := tx.WithContext(ctx)
	if c.pg {
		// An expunge of the source waits for the clone, and the reverse.
		q = q.Clauses(clause.Locking{Strength: "SHARE"})
	}
	if err := q.Where("id = ?", c.in.SourceID).Take(&c.src).Error; err != nil {
		return CloneResult{}, kit.NotFound(err)
	}
	now := kit.Now()
	owner := c.in.Actor.UserID
	c.dst = projects.Project{ID: c.dstID, Name: c.src.Name, Description: c.src.Description,
		StrictMode: c.src.StrictMode, CheckReferencesOnWrite: c.src.CheckReferencesOnWrite,
		Features: append(kit.StringList{}, c.src.Features...), OwnerID: &owner, Version: 1, CreatedAt: now, UpdatedAt: now}
	if c.in.Name != "" {
		c.dst.Name = c.in.Name
	}
	if err := tx.WithContext(ctx).Create(&c.dst).Error; err != nil {
		return CloneResult{}, err
	}
	c.now = now
	c.at = stamp{project: c.dst.ID, versionID: "1", lastUpdated: now.Format("2006-01-02T15:04:05.000000Z")}
	out := CloneResult{}

	var ms []members.ProjectMembership
	if c.in.Memberships {
		if err := tx.WithContext(ctx).Where("project_id = ?", c.src.ID).Order("created_at, id").Find(&ms).Error; err != nil {
			return out, err
		}
	}
	profiles := map[string]bool{}
	for _, m := range ms {
		if m.ProfileID != nil {
			profiles[m.ProfileType+"/"+*m.ProfileID] = true
		}
	}
	n, err := c.copyResources(profiles)
	if err != nil {
		return out, err
	}
	out.Resources = n
	if err := reach("resources"); err != nil {
		return out, err
	}
	c.report(StepSettings, c.done)
	policies, err := c.copyPolicies()
	if err != nil {
		return out, err
	}
	out.Policies = len(policies)
	if id := c.src.DefaultPatientAccessPolicy; id != nil {
		mapped := policies[*id]
		c.dst.DefaultPatientAccessPolicy = &mapped
		if err := tx.WithContext(ctx).Model(&projects.Project{}).Where("id = ?", c.dst.ID).
			Update("default_patient_access_policy", mapped).Error; err != nil {
			return out, err
		}
	}
	if out.Secrets, err = secrets.CopyProject(ctx, tx, c.box, c.src.ID, c.dst.ID, c.in.Actor); err != nil {
		return out, err
	}
	if err := reach("secrets"); err != nil {
		return out, err
	}
	if out.Clients, err = clients.CopyProject(ctx, tx, c.src.ID, c.dst.ID, policies, c.in.Actor); err != nil {
		return out, err
	}
	c.report(StepMembers, c.done)
	if out.Memberships, err = c.copyMemberships(ms, policies); err != nil {
		return out, err
	}
	if err := reach("memberships"); err != nil {
		return out, err
	}
	if c.withCrew {
		// The clone commits: it is no longer a clone in progress.
		if err := tx.WithContext(ctx).Exec("DELETE FROM clone_intents WHERE project_id = ?", c.dst.ID).Error; err != nil {
			return out, err
		}
	}
	err = audit.RecordOperator(ctx, tx, c.in.Actor, audit.ActionProjectCloned, "Project/"+c.dst.ID, map[string]any{
		"source": c.src.ID, "sourceName": c.src.Name, "name": c.dst.Name, "resources": out.Resources,
		"policies": out.Policies, "secrets": out.Secrets, "clients": out.Clients, "memberships": out.Memberships,
		"filters": map[string]any{"resourceTypes": c.in.ResourceTypes, "includeIds": len(c.in.IncludeIDs),
			"excludeIds": len(c.in.ExcludeIDs), "memberships": c.in.Memberships}})
	out.Project = c.dst
	return out, err
}

// cloneBatch is how many resources one round trip reads or writes.
const cloneBatch = 5000

// copyResources copies the live resources the filters select (and those
// named in forced, whatever the filters), with their search index rows, and
// returns how many it copied. It fills c.ids.
//
// On PostgreSQL it works inside the copy's row-level-security wall, every
// new row checked against the copy, and reads the source through the
// SELECT-only policies that enclave.clone_source opens (migration 00091).
func (c *cloner) copyResources(forced map[string]bool) (int, error) {
	ctx, tx := c.ctx, c.tx
	if err := enterWall(ctx, tx, c.dst.ID); err != nil {
		return 0, err
	}
	if c.pg {
		if err := tx.WithContext(ctx).Exec("SELECT set_config('enclave.clone_source', ?, true)", c.src.ID).Error; err != nil {
			return 0, err
		}
	}
	all, err := c.liveResources()
	if err != nil {
		return 0, err
	}
	include, exclude := set(c.in.IncludeIDs), set(c.in.ExcludeIDs)
	types := set(c.in.ResourceTypes)
	c.ids = make(idMap, len(all))
	var oldTypes, oldIDs, newIDs []string
	byType := map[string][]string{}
	for _, r := range all {
		key := r.ResourceType + "/" + r.ID
		pick := (len(types) == 0 || types[r.ResourceType]) && (len(include) == 0 || include[r.ID]) && !exclude[r.ID]
		if !pick && !forced[key] {
			continue
		}
		n := newResourceID()
		c.ids[key] = n
		oldTypes, oldIDs, newIDs = append(oldTypes, r.ResourceType), append(oldIDs, r.ID), append(newIDs, n)
		byType[r.ResourceType] = append(byType[r.ResourceType], r.ID)
	}
	all = nil
	c.total = len(c.ids)
	c.report(StepResources, 0)
	if len(c.ids) > 0 {
		if c.withCrew {
			// The index rows are copied alongside, on the crew's
			// connections.
			var err error
			if c.crew, err = startCrew(c, c.root, oldTypes, oldIDs, newIDs); err != nil {
				return 0, err
			}
		} else if err := c.loadMapping(oldTypes, oldIDs, newIDs); err != nil {
			return 0, err
		}
		if err := c.copyContent(byType); err != nil {
			return 0, err
		}
		if err := reach("content"); err != nil {
			return 0, err
		}
		c.report(StepIndex, c.done)
		if c.crew != nil {
			if err := c.crew.wait(); err != nil {
				return 0, err
			}
		} else if err := c.copyIndex(); err != nil {
			return 0, err
		}
	}
	if c.pg {
		if err := tx.WithContext(ctx).Exec("SELECT set_config('enclave.clone_source', '', true)").Error; err != nil {
			return 0, err
		}
	}
	return len(c.ids), leaveWall(ctx, tx, c.dst.ID)
}

// liveResources lists the type and id of every live resource of the
// source.
func (c *cloner) liveResources() ([]struct{ ResourceType, ID string }, error) {
	rows, err := c.tx.WithContext(c.ctx).Raw(`SELECT resource_type, id FROM resources WHERE project_id = ? AND NOT deleted`, c.src.ID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []struct{ ResourceType, ID string }
	for rows.Next() {
		var r struct{ ResourceType, ID string }
		if err := rows.Scan(&r.ResourceType, &r.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func set(list []string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, s := range list {
		out[s] = true
	}
	return out
}

// loadMapping puts the id mapping in the temporary table clone_ids of the
// clone's transaction, for the statements that copy the index rows when
// there is no crew (each member of a crew loads its own).
func (c *cloner) loadMapping(oldTypes, oldIDs, newIDs []string) error {
	ctx, tx := c.ctx, c.tx
	if c.pg {
		for _, s := range mappingSteps(oldTypes, oldIDs, newIDs) {
			if err := c.execArrays(s.query, s.args...); err != nil {
				return err
			}
		}
		return nil
	}
	if err := tx.WithContext(ctx).Exec("DROP TABLE IF EXISTS " + tempPrefix(c.pg) + "clone_ids").Error; err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Exec(`CREATE TEMP TABLE clone_ids (resource_type TEXT NOT NULL, old_id TEXT NOT NULL,
		new_id TEXT NOT NULL, PRIMARY KEY (resource_type, old_id))`).Error; err != nil {
		return err
	}
	rows := make([][]any, len(oldIDs))
	for i := range oldIDs {
		rows[i] = []any{oldTypes[i], oldIDs[i], newIDs[i]}
	}
	return insertValues(ctx, tx, "clone_ids (resource_type, old_id, new_id)", rows)
}

// tempPrefix qualifies a temporary table's name, so that a DROP cannot
// reach a real table of the same name.
func tempPrefix(pg bool) string {
	if pg {
		return "pg_temp."
	}
	return "temp."
}

// copiedIndex is, for each index table, its own columns and what the copy's
// rows take for them from the source's row x; the mapping m gives the
// copy's resource id, and r the copy of a reference's target.
var copiedIndex = []struct{ table, columns, values string }{
	{"resource_strings", "param, value, raw", "x.param, x.value, x.raw"},
	{"resource_tokens", "param, system, code, text", "x.param, x.system, x.code, x.text"},
	// _lastUpdated is the copy's time.
	{"resource_dates", "param, start_us, end_us", `x.param, CASE WHEN x.param = '_lastUpdated' THEN ? ELSE x.start_us END,
		CASE WHEN x.param = '_lastUpdated' THEN ? ELSE x.end_us END`},
	// A reference "Type/id" (or "Type/id/_history/n") to a copied resource
	// names the copy: its ref_id, and the start of its ref.
	{"resource_references", "param, ref_type, ref_id, ref", `x.param, x.ref_type, COALESCE(r.new_id, x.ref_id),
		CASE WHEN r.new_id IS NULL THEN x.ref
			ELSE x.ref_type || '/' || r.new_id || substr(x.ref, length(x.ref_type) + length(x.ref_id) + 2) END`},
	{"resource_quantities", "param, value, low, high, system, code, unit", "x.param, x.value, x.low, x.high, x.system, x.code, x.unit"},
	{"resource_composites", compositeColumns, "x." + strings.ReplaceAll(compositeColumns, ", ", ", x.")},
}

// compositeColumns are resource_composites' own columns.
const compositeColumns = "param, system, code, value, low, high, v_system, v_code, v_text, v_raw, unit, start_us, end_us"

// indexCopies are the statements that copy the search index rows of the
// copied resources from the mapping in clone_ids, one per table, stamped
// with the clone's time (the copies' version time, and their
// _lastUpdated).
func (c *cloner) indexCopies() ([]statement, error) {
	start, end, ok := fhir.DateRange(c.at.lastUpdated)
	if !ok {
		return nil, errors.New("clone: the clone's time is not a FHIR instant")
	}
	var out []statement
	for _, s := range copiedIndex {
		args := []any{c.dst.ID, c.now.UnixMicro()}
		from := s.table + ` x JOIN clone_ids m ON m.resource_type = x.resource_type AND m.old_id = x.resource_id`
		switch s.table {
		case "resource_dates":
			args = append(args, start.UnixMicro(), end.UnixMicro())
		case "resource_references":
			from += ` LEFT JOIN clone_ids r ON r.resource_type = x.ref_type AND r.old_id = x.ref_id`
		}
		out = append(out, statement{table: s.table, args: append(args, c.src.ID),
			query: `INSERT INTO ` + s.table + ` (project_id, resource_type, resource_id, updated_us, ` + s.columns + `)
			SELECT ?, x.resource_type, m.new_id, ?, ` + s.values + ` FROM ` + from + ` WHERE x.project_id = ?`})
	}
	return out, nil
}

// copyIndex runs indexCopies in the clone's own transaction: on SQLite,
// where one writer is all there is, and on PostgreSQL when the pool has no
// room for a crew.
//
// On PostgreSQL each statement joins every index row of the source with
// the id mapping: one hash join (enable_nestloop off), not a lookup per
// row, whatever the planner guesses from statistics the source's fresh
// rows may not have yet; with the memory to hold the hash table of
// 100,000s of rows instead of spilling it to disk in batches (work_mem).
func (c *cloner) copyIndex() error {
	copies, err := c.indexCopies()
	if err != nil {
		return err
	}
	for _, s := range copies {
		if err := c.tx.WithContext(c.ctx).Exec(s.query, s.args...).Error; err != nil {
			return fmt.Errorf("clone %s: %w", s.table, err)
		}
	}
	if c.pg {
		if err := c.tx.WithContext(c.ctx).Exec("SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT").Error; err != nil {
			return err
		}
	}
	return c.tx.WithContext(c.ctx).Exec("DROP TABLE " + tempPrefix(c.pg) + "clone_ids").Error
}

// copyContent reads the copied resources of the source in batches of one
// type (looked up by primary key), rewrites each copy's JSON (see
// rewriteResource), and writes the batch's current rows and history rows.
// A batch is rewritten on other goroutines while the previous one is
// written: the database and the JSON work overlap.
func (c *cloner) copyContent(byType map[string][]string) error {
	var pending <-chan rewritten
	flush := func() error {
		if pending == nil {
			return nil
		}
		b := <-pending
		pending = nil
		if b.err != nil {
			return b.err
		}
		if err := c.insertResources(b.types, b.ids, b.contents); err != nil {
			return err
		}
		c.done += len(b.ids)
		c.report(StepResources, c.done)
		return nil
	}
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		for ids := range slices.Chunk(byType[typ], cloneBatch) {
			batch, err := c.readBatch(typ, ids)
			if err != nil {
				if pending != nil {
					<-pending
				}
				return err
			}
			next := c.rewriteBatch(typ, batch)
			if err := flush(); err != nil {
				<-next
				return err
			}
			pending = next
		}
	}
	return flush()
}

// sourceRow is a source resource's id and JSON.
type sourceRow struct{ ID, Content string }

// readBatch reads the source's resources of type typ with the ids.
func (c *cloner) readBatch(typ string, ids []string) ([]sourceRow, error) {
	rows, err := c.tx.WithContext(c.ctx).Raw(`SELECT id, content FROM resources WHERE project_id = ? AND resource_type = ? AND id IN ?`,
		c.src.ID, typ, ids).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]sourceRow, 0, len(ids))
	for rows.Next() {
		var r sourceRow
		if err := rows.Scan(&r.ID, &r.Content); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// rewritten is a batch of copies ready to be written, or why not.
type rewritten struct {
	types, ids, contents []string
	err                  error
}

// rewriteBatch rewrites the batch's resources of type typ for the copy on
// as many goroutines as there are processors, and delivers them in order.
func (c *cloner) rewriteBatch(typ string, batch []sourceRow) <-chan rewritten {
	done := make(chan rewritten, 1)
	go func() {
		out := rewritten{types: make([]string, len(batch)), ids: make([]string, len(batch)), contents: make([]string, len(batch))}
		workers := min(runtime.GOMAXPROCS(0), max(1, len(batch)/100))
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(batch); i += workers {
					r := batch[i]
					n, _ := c.ids.newID(typ, r.ID)
					content, err := rewriteResource([]byte(r.Content), typ, r.ID, n, c.at, c.ids)
					if err != nil {
						errs[w] = fmt.Errorf("%s/%s: %w", typ, r.ID, err)
						return
					}
					out.types[i], out.ids[i], out.contents[i] = typ, n, string(content)
				}
			})
		}
		wg.Wait()
		out.err = errors.Join(errs...)
		done <- out
	}()
	return done
}

// insertResources writes version 1 of each copy: its current row and its
// history row.
func (c *cloner) insertResources(types, ids, contents []string) error {
	at := c.now
	if len(ids) == 0 {
		return nil
	}
	if c.pg {
		return c.execArrays(`WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS u (t, i, c)),
			cur AS (INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
				SELECT $4, t, i, 1, $5, FALSE, c FROM u)
			INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
			SELECT $4, t, i, 1, $5, FALSE, c FROM u`, types, ids, contents, c.dst.ID, at)
	}
	rows := make([][]any, len(ids))
	for i := range ids {
		rows[i] = []any{c.dst.ID, types[i], ids[i], 1, at, false, contents[i]}
	}
	cols := " (project_id, resource_type, id, version_id, last_updated, deleted, content)"
	if err := insertValues(c.ctx, c.tx, "resources"+cols, rows); err != nil {
		return err
	}
	return insertValues(c.ctx, c.tx, "resource_history"+cols, rows)
}

// execArrays runs a PostgreSQL statement whose arguments include arrays, on
// the transaction's connection (GORM would spread a slice into a list).
func (c *cloner) execArrays(query string, args ...any) error {
	_, err := c.tx.Statement.ConnPool.ExecContext(c.ctx, query, args...)
	return err
}

// insertValues inserts rows into table (with its column list) with
// multi-row INSERTs, each well within SQLite's limit of bound values.
func insertValues(ctx context.Context, tx *gorm.DB, table string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	per := max(1, 10000/width)
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	for len(rows) > 0 {
		n := min(len(rows), per)
		args := make([]any, 0, n*width)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		if err := tx.WithContext(ctx).Exec(q, args...).Error; err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// copyPolicies copies the source's access policies with new ids, the
// references of their criteria rewritten, and returns the mapping of their
// ids.
func (c *cloner) copyPolicies() (map[string]string, error) {
	var ps []resources.AccessPolicy
	if err := c.tx.WithContext(c.ctx).Where("project_id = ?", c.src.ID).Order("name").Find(&ps).Error; err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ps))
	now := kit.Now()
	for _, p := range ps {
		n := resources.AccessPolicy{ID: uuid.NewString(), ProjectID: c.dst.ID, Name: p.Name,
			Rules: slices.Clone(p.Rules), CreatedAt: now, UpdatedAt: now}
		for i := range n.Rules {
			n.Rules[i].Criteria = rewriteCriteria(n.Rules[i].Criteria, c.ids)
			n.Rules[i].HiddenFields = slices.Clone(n.Rules[i].HiddenFields)
		}
		if err := c.tx.WithContext(c.ctx).Create(&n).Error; err != nil {
			return nil, err
		}
		out[p.ID] = n.ID
	}
	return out, nil
}

// copyMemberships makes the copy's memberships: those of ms (the source's,
// when asked for) with their policies and profiles mapped, and the caller as
// an active admin under no policy. It returns how many the copy has.
func (c *cloner) copyMemberships(ms []members.ProjectMembership, policies map[string]string) (int, error) {
	ctx, tx := c.ctx, c.tx
	caller := c.in.Actor.UserID
	now := kit.Now()
	callerIn := false
	for _, m := range ms {
		n := m
		n.ID, n.ProjectID, n.CreatedAt, n.UpdatedAt = uuid.NewString(), c.dst.ID, now, now
		if m.AccessPolicyID != nil {
			id := policies[*m.AccessPolicyID]
			n.AccessPolicyID = &id
		}
		if m.UserID == caller {
			callerIn = true
			n.Admin, n.Active, n.AccessPolicyID = true, true, nil
		}
		n.ProfileID = nil
		if m.ProfileID != nil {
			if id, ok := c.ids.newID(m.ProfileType, *m.ProfileID); ok {
				n.ProfileID = &id
			}
		}
		if n.ProfileID == nil {
			id, err := c.newProfile(m.UserID)
			if err != nil {
				return 0, err
			}
			n.ProfileType, n.ProfileID = resources.ProfileType, &id
		}
		if err := tx.WithContext(ctx).Create(&n).Error; err != nil {
			return 0, err
		}
	}
	if !callerIn {
		if _, err := members.For(kit.Bind(tx, c.dst.ID)).InsertMembership(ctx, audit.Actor{}, caller, true, nil); err != nil {
			return 0, err
		}
		return len(ms) + 1, nil
	}
	return len(ms), nil
}

// newProfile makes a profile resource in the copy for a member whose
// profile was not copied.
func (c *cloner) newProfile(userID string) (string, error) {
	var u accounts.User
	if err := c.tx.WithContext(c.ctx).Where("id = ?", userID).Take(&u).Error; err != nil {
		return "", err
	}
	return resources.For(kit.Bind(c.tx, c.dst.ID)).InsertProfile(c.ctx, u)
}

// newResourceID is a copied resource's id: a time-ordered UUID (version 7),
// so that a clone's rows land at the end of the indexes that lead with the
// resource id instead of all over them.
func newResourceID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
