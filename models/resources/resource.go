// Package resources is a project's FHIR store: resources with their full
// history, the search index and the search engine, and the access policies
// that restrict what a member may read and write. Every statement is bound
// to the store's project, and on PostgreSQL also runs under row-level
// security (see tenantTx).
package resources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/projects"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Resource is one version of a FHIR resource of the tenant's project.
type Resource struct {
	Type        string
	ID          string
	VersionID   string // "1", "2", ...: the ETag is W/"VersionID"
	LastUpdated time.Time
	Deleted     bool   // a deletion marker in the history; JSON is empty
	JSON        []byte // the resource with id and meta (versionId, lastUpdated, project) set
}

// ErrGone means the resource existed but was deleted.
var ErrGone = errors.New("resource deleted")

// ErrPreconditionFailed means a condition of the request (If-Match, or the
// single match conditional create needs) does not hold. Errors wrapping it
// carry a message safe to show.
var ErrPreconditionFailed = errors.New("precondition failed")

// ResourceError means a resource was refused; each issue says where and why.
// The messages are safe to show to API clients and console users.
type ResourceError struct {
	Issues []fhir.Issue
}

func (e *ResourceError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.Message
		if is.Expression != "" {
			parts[i] += " (" + is.Expression + ")"
		}
	}
	return "invalid resource: " + strings.Join(parts, "; ")
}

func invalidResource(code, expression, format string, args ...any) *ResourceError {
	return &ResourceError{Issues: []fhir.Issue{{Severity: "error", Code: code, Expression: expression,
		Message: fmt.Sprintf(format, args...)}}}
}

// QueryError means a request names something the server does not support or
// cannot parse: an unknown resource type, search parameter, modifier or
// value. Message is safe to show.
type QueryError struct {
	Message string
}

func (e *QueryError) Error() string { return e.Message }

func badQuery(format string, args ...any) *QueryError {
	return &QueryError{Message: fmt.Sprintf(format, args...)}
}

// checkType accepts a known resource type and refuses any other.
func checkType(resourceType string) error {
	if !fhir.IsResourceType(resourceType) {
		return badQuery("Unsupported resource type %q", resourceType)
	}
	return nil
}

// tenantRole is the PostgreSQL role tenant transactions run as, subject to
// row-level security (see migration 00010).
const tenantRole = "enclave_tenant"

// tenantTx runs fn with a handle bound to this project. On PostgreSQL it is a
// transaction that sets enclave.project_id and takes the enclave_tenant role,
// so row-level security hides every other project's rows even from a query
// that forgets its project filter. On kit.SQLite, where transactions take the
// write lock, read-only work runs without one.
func (t Store) tenantTx(ctx context.Context, write bool, fn func(tx *gorm.DB) error) error {
	db := t.db.WithContext(ctx)
	if kit.DialectOf(t.db) != kit.Postgres {
		if !write {
			return fn(db)
		}
		return db.Transaction(fn)
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(strings.Replace(enterTenantSQL, "$1", "?", 1), t.projectID).Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// settings are the project flags that shape a write.
type settings struct {
	strict, checkRefs bool
}

func (t Store) settings(ctx context.Context) (settings, error) {
	if t.project != nil {
		return settings{strict: t.project.StrictMode, checkRefs: t.project.CheckReferencesOnWrite}, nil
	}
	var p projects.Project
	if err := t.db.WithContext(ctx).Where("id = ?", t.projectID).Take(&p).Error; err != nil {
		return settings{}, kit.NotFound(err)
	}
	return settings{strict: p.StrictMode, checkRefs: p.CheckReferencesOnWrite}, nil
}

// decodeResource parses a request body into a resource of resourceType and
// validates it. Server-owned fields (meta.versionId, meta.lastUpdated,
// meta.project) are dropped before validation: the server sets them. On
// create (ignoreID) the client's id is dropped too, as FHIR asks.
func decodeResource(resourceType string, body []byte, strict, ignoreID bool) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidResource("structure", "", "The body is not valid JSON: %s", kit.JSONProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidResource("structure", "", "The body must hold exactly one JSON value")
	}
	return prepareResource(resourceType, v, strict, ignoreID)
}

// prepareResource is decodeResource for a value already parsed (with
// json.Number for numbers), such as a Bundle entry's resource.
func prepareResource(resourceType string, v any, strict, ignoreID bool) (map[string]any, error) {
	res, ok := v.(map[string]any)
	if !ok {
		return nil, invalidResource("structure", "", "The body must be a JSON object (a FHIR resource)")
	}
	if kit.HasNUL(v) {
		return nil, invalidResource("structure", "", "The body contains a NUL character (\\u0000), which FHIR strings may not hold")
	}
	rt, _ := res["resourceType"].(string)
	if rt != resourceType {
		return nil, invalidResource("invalid", "resourceType", "The resourceType must be %q to match the URL", resourceType)
	}
	if ignoreID {
		delete(res, "id")
	}
	if meta, ok := res["meta"].(map[string]any); ok {
		delete(meta, "versionId")
		delete(meta, "lastUpdated")
		delete(meta, "project")
		if len(meta) == 0 {
			delete(res, "meta")
		}
	}
	if issues := fhir.Validate(res, strict); len(issues) > 0 {
		return nil, &ResourceError{Issues: capIssues(issues)}
	}
	return res, nil
}

// stamp sets the server-owned fields and encodes the stored form.
func (t Store) stamp(res map[string]any, id string, version int, at time.Time) ([]byte, error) {
	res["id"] = id
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.Itoa(version)
	meta["lastUpdated"] = at.Format("2006-01-02T15:04:05.000000Z")
	meta["project"] = t.projectID
	res["meta"] = meta
	return marshalResource(res)
}

// leadingKeys come first in stored resources, as FHIR's own examples write
// them; the other elements follow in name order.
var leadingKeys = []string{"resourceType", "id", "meta"}

// marshalResource encodes res with resourceType, id and meta first.
func marshalResource(res map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	rest := make(map[string]any, len(res))
	for k, v := range res {
		rest[k] = v
	}
	first := true
	for _, k := range leadingKeys {
		v, ok := rest[k]
		if !ok {
			continue
		}
		delete(rest, k)
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteString(strconv.Quote(k))
		buf.WriteByte(':')
		buf.Write(b)
	}
	tail, err := json.Marshal(rest)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		if !first {
			buf.WriteByte(',')
		}
		buf.Write(tail[1 : len(tail)-1])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// checkReferences makes every relative reference of res point at a live
// resource of this project or at a shared system resource.
func checkReferences(tx *gorm.DB, projectID string, res map[string]any) error {
	refs := fhir.References(res)
	if len(refs) > MaxReferences {
		return invalidResource("too-costly", "", "The resource has %d references; at most %d are accepted", len(refs), MaxReferences)
	}
	live, err := liveTargets(tx, projectID, refs, nil)
	if err != nil {
		return err
	}
	return refsFound(refs, live)
}

// liveTargets are the "Type/id" of refs that name a live resource of this
// project, or one that pending names.
func liveTargets(tx *gorm.DB, projectID string, refs []fhir.Reference, pending map[string]bool) (map[string]bool, error) {
	// Each distinct target is looked up once, all in one statement by
	// primary key (deletion is checked on the row, see migration 00013).
	idsByType := map[string][]string{}
	seen := map[string]bool{}
	for _, ref := range refs {
		key := ref.Type + "/" + ref.ID
		if ref.Type == "" || ref.ID == "" || fhir.IsSystemType(ref.Type) || seen[key] || pending[key] {
			continue
		}
		seen[key] = true
		idsByType[ref.Type] = append(idsByType[ref.Type], ref.ID)
	}
	rows, err := currentRows(tx, projectID, idsByType, false)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, r := range rows {
		live[r.ResourceType+"/"+r.ID] = !r.Deleted
	}
	for key := range pending {
		live[key] = true
	}
	return live, nil
}

// currentRow is what currentRows reads of a resource's current row.
type currentRow struct {
	ResourceType, ID string
	Deleted          bool
}

// maxLookupIDs bounds the ids of one currentRows statement, far below the
// bind parameter limits of both databases.
const maxLookupIDs = 5000

// currentRows reads the current rows (live or deleted) of the ids of each
// type, by primary key, in a statement per maxLookupIDs ids; lock locks
// them on PostgreSQL.
func currentRows(tx *gorm.DB, projectID string, idsByType map[string][]string, lock bool) ([]currentRow, error) {
	forUpdate := ""
	if lock && kit.DialectOf(tx) == kit.Postgres {
		forUpdate = " FOR UPDATE"
	}
	var out []currentRow
	var ors []string
	args := []any{projectID}
	n := 0
	flush := func() error {
		if len(ors) == 0 {
			return nil
		}
		var rows []currentRow
		err := tx.Raw(`SELECT resource_type, id, deleted FROM resources WHERE project_id = ? AND (`+strings.Join(ors, " OR ")+`)`+forUpdate, args...).
			Scan(&rows).Error
		out = append(out, rows...)
		ors, args, n = nil, []any{projectID}, 0
		return err
	}
	for _, typ := range slices.Sorted(maps.Keys(idsByType)) {
		ids := idsByType[typ]
		for len(ids) > 0 {
			k := min(len(ids), maxLookupIDs-n)
			ors = append(ors, "(resource_type = ? AND id IN ?)")
			args = append(args, typ, ids[:k])
			ids, n = ids[k:], n+k
			if n == maxLookupIDs {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, flush()
}

// refsFound refuses the references of refs whose target is not in live
// (see liveTargets), nor a shared system resource.
func refsFound(refs []fhir.Reference, live map[string]bool) error {
	var issues []fhir.Issue
	for _, ref := range refs {
		if ref.Type == "" || ref.ID == "" {
			continue
		}
		found := live[ref.Type+"/"+ref.ID]
		if fhir.IsSystemType(ref.Type) {
			_, found = fhir.SystemResource(ref.Type, ref.ID)
		}
		if !found {
			issues = append(issues, fhir.Issue{Severity: "error", Code: "structure", Expression: ref.Path,
				Message: fmt.Sprintf("Invalid reference %q at %s: not found in this project", ref.Reference, ref.Path)})
		}
	}
	if len(issues) > 0 {
		return &ResourceError{Issues: capIssues(issues)}
	}
	return nil
}

// MaxReferences bounds the references of one resource that
// checkReferencesOnWrite looks up.
const MaxReferences = 1000

// MaxIssues bounds the issues of one refusal: past it, one more issue says
// how many were left out, so an outcome stays small whatever the input.
const MaxIssues = 100

func capIssues(issues []fhir.Issue) []fhir.Issue {
	if len(issues) <= MaxIssues {
		return issues
	}
	out := append(issues[:MaxIssues:MaxIssues], fhir.Issue{Severity: "error", Code: "too-costly",
		Message: fmt.Sprintf("%d more issues are not listed", len(issues)-MaxIssues)})
	return out
}

// resourceTime is the clock of resource versions, in microseconds (the
// precision both databases keep) so that meta.lastUpdated and the stored
// column agree exactly.
func resourceTime() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// CreateResource validates body as a new resource of resourceType (against
// the project's strictMode and checkReferencesOnWrite), gives it a new id and
// stores version 1. A refused resource is a *ResourceError listing every
// problem; a system type is kit.ErrForbidden.
func (t Store) CreateResource(ctx context.Context, resourceType string, body []byte) (Resource, error) {
	r, _, err := t.create(ctx, resourceType, body, nil)
	return r, err
}

// CreateResourceIfNoneExist is FHIR's conditional create: when the search
// criteria match one resource it is returned (created is false); when they
// match several the error wraps ErrPreconditionFailed; otherwise the
// resource is created.
func (t Store) CreateResourceIfNoneExist(ctx context.Context, resourceType string, body []byte, criteria url.Values) (r Resource, created bool, err error) {
	return t.create(ctx, resourceType, body, criteria)
}

func (t Store) create(ctx context.Context, resourceType string, body []byte, criteria url.Values) (Resource, bool, error) {
	if err := t.checkWritable(resourceType); err != nil {
		return Resource{}, false, err
	}
	if err := t.checkPolicyWrite(resourceType); err != nil {
		return Resource{}, false, err
	}
	var cond *SearchQuery
	if criteria != nil {
		q, err := t.condition(resourceType, criteria)
		if err != nil {
			return Resource{}, false, err
		}
		cond = &q
	}
	set, err := t.settings(ctx)
	if err != nil {
		return Resource{}, false, err
	}
	res, err := decodeResource(resourceType, body, set.strict, true)
	if err != nil {
		return Resource{}, false, err
	}
	if cond == nil && !set.checkRefs && t.pipelined() && !t.limited(resourceType, true) {
		out, err := t.createPipelined(ctx, resourceType, res)
		return out, err == nil, err
	}
	var out Resource
	created := true
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		if cond != nil {
			match, found, err := t.matchOne(tx, *cond, "If-None-Exist")
			if err != nil || found {
				out, created = match, false
				return err
			}
		}
		var err error
		out, err = t.writeNext(tx, resourceType, uuid.NewString(), res, 0, set)
		return err
	})
	if err != nil {
		return Resource{}, false, err
	}
	return out, created, nil
}

// writeNext stores res as version prev+1 of resourceType/id (prev 0: a new
// resource; a deleted one's last version brings it back) with its history
// and index rows, after checking its references when the project asks, and
// checks the result against the policy's criteria.
func (t Store) writeNext(tx *gorm.DB, resourceType, id string, res map[string]any, prev int, set settings) (Resource, error) {
	if set.checkRefs {
		if err := checkReferences(tx, t.projectID, res); err != nil {
			return Resource{}, err
		}
	}
	at := resourceTime()
	next := prev + 1
	content, err := t.stamp(res, id, next, at)
	if err != nil {
		return Resource{}, err
	}
	out := Resource{Type: resourceType, ID: id, VersionID: strconv.Itoa(next), LastUpdated: at, JSON: content}
	if prev == 0 {
		err = tx.Exec(`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
			VALUES (?, ?, ?, 1, ?, FALSE, ?)`, t.projectID, resourceType, id, at, string(content)).Error
		if err != nil && kit.IsUniqueViolation(err) {
			return Resource{}, fmt.Errorf("%w: %s/%s was created by another request at the same time; read it again", kit.ErrConflict, resourceType, id)
		}
	} else {
		err = t.replaceCurrent(tx, out, prev)
	}
	if err != nil {
		return Resource{}, err
	}
	if err := t.writeVersion(tx, out, next, res); err != nil {
		return Resource{}, err
	}
	return out, t.checkWrittenMatches(tx, resourceType, id)
}

// createPipelined stores a new resource on PostgreSQL in one round trip: the
// tenant wall and createSQL, one implicit transaction.
func (t Store) createPipelined(ctx context.Context, resourceType string, res map[string]any) (Resource, error) {
	at := resourceTime()
	id := uuid.NewString()
	content, err := t.stamp(res, id, 1, at)
	if err != nil {
		return Resource{}, err
	}
	// After stamping: meta.lastUpdated is indexed too.
	rows := indexRows(res)
	if err := checkIndexSize(rows); err != nil {
		return Resource{}, err
	}
	out := Resource{Type: resourceType, ID: id, VersionID: "1", LastUpdated: at, JSON: content}
	sql, args := t.createArgs(out, rows)
	err = t.tenantPipeline(ctx, enterTenantSQL, []sqlText{{sql, args}}, func(br pgx.BatchResults) error {
		_, err := br.Exec()
		return err
	})
	if err != nil {
		return Resource{}, err
	}
	return out, nil
}

// UpdateResource stores a new version of an existing resource. ifMatch, when
// not empty, is the version the client last saw (from If-Match); a different
// current version wraps ErrPreconditionFailed. The body's id must equal id.
// Updating an id that does not exist is kit.ErrNotFound; a deleted one is
// ErrGone. (The console's editor saves through it; the API's PUT is
// PutResource.)
func (t Store) UpdateResource(ctx context.Context, resourceType, id string, body []byte, ifMatch string) (Resource, error) {
	r, _, err := t.update(ctx, resourceType, id, body, ifMatch, mustExist)
	return r, err
}

// PutResource is FHIR's update, with update-as-create: like UpdateResource,
// but when the project has no live resource with that id, body becomes one
// with that id (created is true). A deleted id is brought back as its next
// version. The id must be a valid FHIR id; another project's use of the same
// id neither blocks nor shows through. An If-Match on an id with no live
// resource wraps ErrPreconditionFailed.
func (t Store) PutResource(ctx context.Context, resourceType, id string, body []byte, ifMatch string) (r Resource, created bool, err error) {
	return t.update(ctx, resourceType, id, body, ifMatch, mayCreate)
}

// putMode says what a write of a given id may do.
type putMode int

const (
	mustExist putMode = iota // update a live resource only
	mayCreate                // update it, or create it when there is none
	mustBeNew                // create it: a live resource with the id is a conflict
)

func (t Store) update(ctx context.Context, resourceType, id string, body []byte, ifMatch string, mode putMode) (Resource, bool, error) {
	if err := t.mayWrite(resourceType); err != nil {
		return Resource{}, false, err
	}
	if mode != mustExist {
		if err := checkID(resourceType, id); err != nil {
			return Resource{}, false, err
		}
	}
	res, set, err := t.decodeUpdate(ctx, resourceType, body)
	if err != nil {
		return Resource{}, false, err
	}
	if bodyID, _ := res["id"].(string); bodyID != id {
		return Resource{}, false, invalidResource("invalid", resourceType+".id", "The resource id %q must match the id in the URL %q", bodyID, id)
	}
	if err := t.checkProfileWrite(ctx, resourceType, id); err != nil {
		return Resource{}, false, err
	}
	var out Resource
	created := false
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		var err error
		out, created, err = t.put(tx, resourceType, id, res, set, ifMatch, mode)
		return err
	})
	return out, created, err
}

// put writes res as the next version of resourceType/id inside tx, as mode
// allows: an update of the live resource (checked against ifMatch and the
// policy's criteria, keeping the fields the policy hides), or a new one.
// created tells which.
func (t Store) put(tx *gorm.DB, resourceType, id string, res map[string]any, set settings, ifMatch string, mode putMode) (Resource, bool, error) {
	cur, live, err := lockCurrent(tx, t.projectID, resourceType, id)
	if err != nil {
		return Resource{}, false, err
	}
	switch {
	case live && mode == mustBeNew:
		return Resource{}, false, fmt.Errorf("%w: %s/%s already exists, and does not match the criteria", kit.ErrConflict, resourceType, id)
	case live:
		if err := t.checkMayChange(tx, resourceType, id); err != nil {
			return Resource{}, false, err
		}
		if ifMatch != "" && ifMatch != strconv.Itoa(cur) {
			return Resource{}, false, fmt.Errorf("%w: the resource is at version %d, not %s", ErrPreconditionFailed, cur, ifMatch)
		}
		if err := t.keepHidden(tx, resourceType, id, res); err != nil {
			return Resource{}, false, err
		}
	case mode == mustExist && cur == 0:
		return Resource{}, false, kit.ErrNotFound
	case mode == mustExist:
		return Resource{}, false, ErrGone
	case ifMatch != "":
		return Resource{}, false, fmt.Errorf("%w: %s/%s does not exist, so it is not at version %s", ErrPreconditionFailed, resourceType, id, ifMatch)
	}
	out, err := t.writeNext(tx, resourceType, id, res, cur, set)
	if err != nil {
		return Resource{}, false, err
	}
	// The answer shows what the member may see: not the hidden fields
	// that keepHidden carried over.
	out, err = t.redact(out)
	return out, !live, err
}

// checkID refuses an id a client chose that is not a valid FHIR id, and
// the ids "." and "..", which a URL path would read as a step.
func checkID(resourceType, id string) error {
	if !fhir.IsID(id) || id == "." || id == ".." {
		return invalidResource("invalid", resourceType+".id",
			"%q is not a valid id: use 1 to 64 letters, digits, '-' and '.' (and not \".\" or \"..\")", id)
	}
	return nil
}

// DeleteResource marks a resource deleted: reads answer ErrGone, searches
// skip it, and the history gains a deletion version.
func (t Store) DeleteResource(ctx context.Context, resourceType, id string) error {
	if err := t.checkWritable(resourceType); err != nil {
		return err
	}
	if err := t.checkPolicyWrite(resourceType); err != nil {
		return err
	}
	if err := t.checkProfileWrite(ctx, resourceType, id); err != nil {
		return err
	}
	return t.tenantTx(ctx, true, func(tx *gorm.DB) error { return t.deleteIn(tx, resourceType, id) })
}

// deleteIn writes the deletion version of a live resource inside tx.
func (t Store) deleteIn(tx *gorm.DB, resourceType, id string) error {
	cur, err := currentVersion(tx, t.projectID, resourceType, id)
	if err != nil {
		return err
	}
	if err := t.checkMayChange(tx, resourceType, id); err != nil {
		return err
	}
	gone := Resource{Type: resourceType, ID: id, VersionID: strconv.Itoa(cur + 1), LastUpdated: resourceTime(), Deleted: true}
	if err := t.replaceCurrent(tx, gone, cur); err != nil {
		return err
	}
	return t.writeVersion(tx, gone, cur+1, nil)
}

// mayWrite refuses writes of a type that is read-only for everyone, or for
// the store's policy.
func (t Store) mayWrite(resourceType string) error {
	if err := t.checkWritable(resourceType); err != nil {
		return err
	}
	return t.checkPolicyWrite(resourceType)
}

// decodeUpdate reads and validates the body of an update, as the project's
// settings ask; the settings go on to the write.
func (t Store) decodeUpdate(ctx context.Context, resourceType string, body []byte) (map[string]any, settings, error) {
	set, err := t.settings(ctx)
	if err != nil {
		return nil, settings{}, err
	}
	res, err := decodeResource(resourceType, body, set.strict, false)
	return res, set, err
}

func (t Store) checkWritable(resourceType string) error {
	if err := checkType(resourceType); err != nil {
		return err
	}
	if fhir.IsSystemType(resourceType) {
		return fmt.Errorf("%w: %s resources are shared system definitions and are read-only", kit.ErrForbidden, resourceType)
	}
	return nil
}

// currentVersion locks the current row of a live resource and returns its
// version.
func currentVersion(tx *gorm.DB, projectID, resourceType, id string) (int, error) {
	version, live, err := lockCurrent(tx, projectID, resourceType, id)
	switch {
	case err != nil:
		return 0, err
	case version == 0:
		return 0, kit.ErrNotFound
	case !live:
		return 0, ErrGone
	}
	return version, nil
}

// lockCurrent locks the current row of a resource and returns its version
// and whether it is live; version 0 means the id was never used here.
func lockCurrent(tx *gorm.DB, projectID, resourceType, id string) (version int, live bool, err error) {
	lock := ""
	if kit.DialectOf(tx) == kit.Postgres {
		lock = " FOR UPDATE"
	}
	var row struct {
		VersionID int
		Deleted   bool
	}
	res := tx.Raw(`SELECT version_id, deleted FROM resources WHERE project_id = ? AND resource_type = ? AND id = ?`+lock,
		projectID, resourceType, id).Scan(&row)
	if res.Error != nil || res.RowsAffected == 0 {
		return 0, false, res.Error
	}
	return row.VersionID, !row.Deleted, nil
}

// replaceCurrent moves the current row from version prev to r. A row that is
// no longer at prev was changed by someone else in between: kit.ErrConflict.
func (t Store) replaceCurrent(tx *gorm.DB, r Resource, prev int) error {
	res := tx.Exec(`UPDATE resources SET version_id = ?, last_updated = ?, deleted = ?, content = ?
		WHERE project_id = ? AND resource_type = ? AND id = ? AND version_id = ?`,
		prev+1, r.LastUpdated, r.Deleted, string(r.JSON), t.projectID, r.Type, r.ID, prev)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("%w: the resource was changed by another request; read it again", kit.ErrConflict)
	}
	return nil
}

// writeVersion appends r to the history and replaces the resource's search
// index rows by those of res (none for a deletion).
func (t Store) writeVersion(tx *gorm.DB, r Resource, version int, res map[string]any) error {
	if err := tx.Exec(`INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.projectID, r.Type, r.ID, version, r.LastUpdated, r.Deleted, string(r.JSON)).Error; err != nil {
		return err
	}
	return t.writeIndex(tx, r.Type, r.ID, res, r.LastUpdated, version == 1)
}

// ReadResource returns the current version of a resource of this project, or
// of a shared system resource. Another project's resource is kit.ErrNotFound; a
// deleted one ErrGone.
func (t Store) ReadResource(ctx context.Context, resourceType, id string) (Resource, error) {
	if err := checkType(resourceType); err != nil {
		return Resource{}, err
	}
	if err := t.checkRead(resourceType); err != nil {
		return Resource{}, err
	}
	if fhir.IsSystemType(resourceType) {
		b, ok := fhir.SystemResource(resourceType, id)
		if !ok {
			return Resource{}, kit.ErrNotFound
		}
		return Resource{Type: resourceType, ID: id, JSON: b}, nil
	}
	if t.pipelined() && !t.hasCriteria(resourceType) {
		return t.readPipelined(ctx, resourceType, id)
	}
	return t.readOne(ctx, resourceType, id, `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resources
		WHERE project_id = ? AND resource_type = ? AND id = ?`, t.projectID, resourceType, id)
}

// readByIDSQL reads one current row for readPipelined.
const readByIDSQL = `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resources
	WHERE project_id = $1 AND resource_type = $2 AND id = $3`

// readPipelined reads a resource on PostgreSQL in one round trip: the tenant
// wall and the read, one implicit transaction.
func (t Store) readPipelined(ctx context.Context, resourceType, id string) (Resource, error) {
	var rows []Resource
	err := t.tenantPipeline(ctx, enterTenantSQL, []sqlText{{readByIDSQL, []any{t.projectID, resourceType, id}}}, func(br pgx.BatchResults) error {
		r, err := br.Query()
		if err != nil {
			return err
		}
		rows, err = scanPgxResources(r)
		return err
	})
	switch {
	case err != nil:
		return Resource{}, err
	case len(rows) == 0:
		return Resource{}, kit.ErrNotFound
	case rows[0].Deleted:
		return Resource{}, ErrGone
	}
	return t.redact(rows[0])
}

// readOne runs a query for one row of resource columns in a tenant read and
// applies the rules of every read: missing is kit.ErrNotFound, outside the
// policy's criteria too, a deletion is ErrGone, hidden fields are removed.
func (t Store) readOne(ctx context.Context, resourceType, id, query string, args ...any) (Resource, error) {
	var out Resource
	err := t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		rows, err := scanResources(tx.Raw(query, args...))
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return kit.ErrNotFound
		}
		out = rows[0]
		if ok, err := t.matchesCriteria(tx, resourceType, id, false); err != nil || !ok {
			return cmpErr(err, kit.ErrNotFound)
		}
		return nil
	})
	if err == nil && out.Deleted {
		return Resource{}, ErrGone
	}
	if err != nil {
		return Resource{}, err
	}
	return t.redact(out)
}

// ReadResourceVersion returns one version of a resource (FHIR vread). A
// version that records the deletion is ErrGone.
func (t Store) ReadResourceVersion(ctx context.Context, resourceType, id, versionID string) (Resource, error) {
	if err := checkType(resourceType); err != nil {
		return Resource{}, err
	}
	if fhir.IsSystemType(resourceType) {
		return Resource{}, badQuery("Shared %s resources keep no version history", resourceType)
	}
	if err := t.checkRead(resourceType); err != nil {
		return Resource{}, err
	}
	v, err := strconv.Atoi(versionID)
	if err != nil || v < 1 {
		return Resource{}, kit.ErrNotFound
	}
	if t.hasCriteria(resourceType) {
		// The criteria are checked on the current version; an earlier one
		// may fall outside them, so only the current one can be read.
		cur, err := t.ReadResource(ctx, resourceType, id)
		switch {
		case err != nil:
			return Resource{}, err
		case cur.VersionID != strconv.Itoa(v):
			return Resource{}, fmt.Errorf("%w: your access policy limits %s resources by criteria, so only the current version is available", kit.ErrForbidden, resourceType)
		}
		return cur, nil
	}
	return t.readOne(ctx, resourceType, id, `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
		WHERE project_id = ? AND resource_type = ? AND id = ? AND version_id = ?`, t.projectID, resourceType, id, v)
}

// Page selects a slice of a long list.
type Page struct {
	Count  int // at most this many items
	Offset int // after skipping this many
}

// History is one page of versions, newest first, with the total number of
// versions.
type History struct {
	Versions []Resource
	Total    int
}

// ResourceHistory lists the versions of one resource (id set) or of every
// resource of the type (id empty), deletions included. The history of an id
// that never existed here is kit.ErrNotFound.
func (t Store) ResourceHistory(ctx context.Context, resourceType, id string, p Page) (History, error) {
	if err := checkType(resourceType); err != nil {
		return History{}, err
	}
	if fhir.IsSystemType(resourceType) {
		return History{}, badQuery("Shared %s resources keep no version history", resourceType)
	}
	if err := t.checkRead(resourceType); err != nil {
		return History{}, err
	}
	if groups, err := t.policyFilters(resourceType, false); err != nil {
		return History{}, err
	} else if len(groups) > 0 && id == "" {
		return History{}, fmt.Errorf("%w: your access policy limits %s resources by criteria, so the history of the whole type is not available", kit.ErrForbidden, resourceType)
	} else if len(groups) > 0 {
		// Earlier versions may fall outside the criteria, which only the
		// current version is checked against.
		return History{}, fmt.Errorf("%w: your access policy limits %s resources by criteria, so their history is not available", kit.ErrForbidden, resourceType)
	}
	where := `project_id = ? AND resource_type = ?`
	args := []any{t.projectID, resourceType}
	if id != "" {
		where += ` AND id = ?`
		args = append(args, id)
	}
	return t.readHistory(ctx, where, args, p, func(tx *gorm.DB, total int64) error {
		if id == "" {
			return nil
		}
		if total == 0 {
			return kit.ErrNotFound
		}
		if ok, err := t.matchesCriteria(tx, resourceType, id, false); err != nil || !ok {
			return cmpErr(err, kit.ErrNotFound)
		}
		return nil
	})
}

// readHistory reads one page of the history rows where says, newest first,
// and their count; check, run after the count, may refuse the reading.
func (t Store) readHistory(ctx context.Context, where string, args []any, p Page, check func(tx *gorm.DB, total int64) error) (History, error) {
	var out History
	err := t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		var total int64
		if err := tx.Raw(`SELECT COUNT(*) FROM resource_history WHERE `+where, args...).Scan(&total).Error; err != nil {
			return err
		}
		if err := check(tx, total); err != nil {
			return err
		}
		out.Total = int(total)
		if p.Count <= 0 {
			return nil
		}
		rows, err := scanResources(tx.Raw(`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
			WHERE `+where+` ORDER BY last_updated DESC, resource_type, id, version_id DESC LIMIT ? OFFSET ?`, append(args, p.Count, p.Offset)...))
		if err != nil {
			return err
		}
		out.Versions, err = t.redactAll(rows)
		return err
	})
	return out, err
}

// cmpErr returns err when set, else the fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// scanResources reads rows of (resource_type, id, version_id, last_updated,
// deleted, content) from a GORM query.
func scanResources(q *gorm.DB) ([]Resource, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanResourceRows(rows)
}

// resourceRows are rows of either driver: database/sql's or pgx's.
type resourceRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanResourceRows reads rows of (resource_type, id, version_id,
// last_updated, deleted, content).
func scanResourceRows(rows resourceRows) ([]Resource, error) {
	var out []Resource
	for rows.Next() {
		var r Resource
		var version int
		var content string
		if err := rows.Scan(&r.Type, &r.ID, &version, &r.LastUpdated, &r.Deleted, &content); err != nil {
			return nil, err
		}
		r.VersionID = strconv.Itoa(version)
		r.LastUpdated = r.LastUpdated.UTC()
		if !r.Deleted {
			r.JSON = []byte(content)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// HasResources reports whether the project holds a live resource besides
// its members' profiles (of any type, whatever the member's access policy),
// e.g. for the project home's next steps. The profile of a member who has
// left counts as a resource.
func (t Store) HasResources(ctx context.Context) (bool, error) {
	var n int64
	count := func(tx *gorm.DB) error {
		return tx.Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM resources r WHERE r.project_id = ? AND NOT r.deleted
			AND NOT EXISTS (SELECT 1 FROM project_memberships m
				WHERE m.project_id = r.project_id AND m.profile_type = r.resource_type AND m.profile_id = r.id)
			LIMIT 1) AS one`, t.projectID).Scan(&n).Error
	}
	db := t.db.WithContext(ctx)
	if kit.DialectOf(t.db) != kit.Postgres {
		return n > 0, count(db)
	}
	// The memberships are outside what enclave_tenant may read, so this
	// runs as the application, with the project set for row-level security
	// (as insertProfile writes).
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT set_config('enclave.project_id', ?, true)", t.projectID).Error; err != nil {
			return err
		}
		return count(tx)
	})
	return n > 0, err
}

// EncodeStored encodes a resource the way the store keeps it: compact JSON
// with resourceType, id and meta first.
func EncodeStored(res map[string]any) ([]byte, error) { return marshalResource(res) }
