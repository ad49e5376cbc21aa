package resources

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enclave/models/fhir"
	"enclave/models/kit"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// FHIR's batch and transaction interactions: one Bundle of requests posted
// to the base. A transaction runs every entry in one database transaction,
// all or none, in the order the specification sets (DELETE, POST, PUT and
// PATCH, GET), with the urn:uuid: fullUrls of new resources replaced by
// their ids wherever they are referenced. A batch runs each entry on its
// own. The new resources of a transaction are written set-based (see
// insertCreated): a thousand cost a few statements, not a thousand round
// trips.

// MaxBundleEntries bounds the entries of one Bundle; more is refused whole.
const MaxBundleEntries = 10_000

// BundleResult is the answer to a batch or transaction: one entry per
// request entry, in the request's order.
type BundleResult struct {
	Type    string // "transaction-response" or "batch-response"
	Entries []EntryResult
}

// EntryResult is what one entry did.
type EntryResult struct {
	// Status is the entry's HTTP status: 201 created, 200 updated, read or
	// matched, 204 deleted (or nothing to delete), or, in a batch, the
	// status of Err.
	Status int
	// Resource is the resource written, matched or read (its Type and ID
	// set alone after a delete).
	Resource Resource
	// Search holds a GET search's matches (Resource is then empty).
	Search *SearchResult
	// Err is a batch entry's failure; a transaction has none (it fails
	// whole with an *EntryError).
	Err error
}

// EntryError is a Bundle refused because of one of its entries, Index
// counted from 0 as Bundle.entry[Index].
type EntryError struct {
	Index int
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("Bundle.entry[%d]: %v", e.Index, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// ErrTooManyEntries is a Bundle with more than MaxBundleEntries entries.
var ErrTooManyEntries = fmt.Errorf("a Bundle may hold at most %d entries; split it", MaxBundleEntries)

// entry is one parsed request of a Bundle.
type entry struct {
	index       int
	fullURL     string
	method      string
	typ, id     string
	version     string     // GET Type/id/_history/v
	query       url.Values // criteria of a conditional PUT or DELETE, or a GET search's parameters
	hasQuery    bool
	ifNoneExist url.Values
	ifMatch     string
	resource    any // as sent
	patch       jsonpatch.Patch
	invalid     error // why a batch entry cannot be run at all

	// Set while processing.
	res    map[string]any // validated, references resolved
	target string         // the id written, once known
	mode   putMode
	done   *EntryResult
}

// ProcessBundle runs a batch or transaction Bundle and answers each of its
// entries. A transaction refused because of one entry is an *EntryError
// wrapping the entry's error (with nothing written); a Bundle that cannot
// be read is a *ResourceError or *QueryError.
func (t Store) ProcessBundle(ctx context.Context, body []byte) (BundleResult, error) {
	kind, entries, err := parseBundle(body)
	if err != nil {
		return BundleResult{}, err
	}
	if kind == "batch" {
		return t.batch(ctx, entries), nil
	}
	return t.transaction(ctx, entries)
}

// parseBundle reads a Bundle of type batch or transaction and its entries'
// requests.
func parseBundle(body []byte) (string, []*entry, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return "", nil, invalidResource("structure", "", "The body is not a JSON object: %s", kit.JSONProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, invalidResource("structure", "", "The body must hold exactly one JSON value")
	}
	if rt, _ := v["resourceType"].(string); rt != "Bundle" {
		return "", nil, invalidResource("invalid", "resourceType", "Post a Bundle to the base: the resourceType must be \"Bundle\"")
	}
	kind, _ := v["type"].(string)
	if kind != "transaction" && kind != "batch" {
		return "", nil, invalidResource("invalid", "Bundle.type", "The Bundle's type must be \"transaction\" or \"batch\" to be posted to the base, not %q", kind)
	}
	raw, ok := v["entry"].([]any)
	if _, present := v["entry"]; present && !ok {
		return "", nil, invalidResource("structure", "Bundle.entry", "Bundle.entry must be an array")
	}
	if len(raw) > MaxBundleEntries {
		return "", nil, invalidResource("too-costly", "Bundle.entry", "The Bundle has %d entries: %v", len(raw), ErrTooManyEntries)
	}
	entries := make([]*entry, len(raw))
	for i, r := range raw {
		e, err := parseEntry(i, r)
		if err != nil {
			// A batch answers it in the entry; a transaction fails whole.
			if kind == "transaction" {
				return "", nil, &EntryError{Index: i, Err: err}
			}
			e = &entry{index: i, invalid: err}
		}
		entries[i] = e
	}
	return kind, entries, nil
}

// parseEntry reads one entry's request.
func parseEntry(i int, raw any) (*entry, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, invalidResource("structure", "", "The entry must be an object")
	}
	e := &entry{index: i, resource: obj["resource"]}
	e.fullURL, _ = obj["fullUrl"].(string)
	req, ok := obj["request"].(map[string]any)
	if !ok {
		return nil, invalidResource("required", "request", "The entry needs a request with a method and a url")
	}
	e.method, _ = req["method"].(string)
	rawURL, _ := req["url"].(string)
	if rawURL == "" {
		return nil, invalidResource("required", "request.url", "The entry's request needs a url, such as \"Patient\" or \"Patient/123\"")
	}
	if s, ok := req["ifMatch"].(string); ok && s != "" {
		e.ifMatch = etagVersion(s)
	}
	if s, ok := req["ifNoneExist"].(string); ok && s != "" {
		q, err := parseCriteria(s[strings.Index(s, "?")+1:])
		if err != nil {
			return nil, badQuery("request.ifNoneExist is not a valid search query")
		}
		e.ifNoneExist = q
	}
	path, query, hasQuery := strings.Cut(strings.TrimPrefix(rawURL, "/"), "?")
	if strings.Contains(path, ":") {
		return nil, badQuery("request.url %q must be relative to the base, such as \"Patient/123\"", rawURL)
	}
	if hasQuery {
		q, err := parseCriteria(query)
		if err != nil {
			return nil, badQuery("request.url %q has a query that cannot be read", rawURL)
		}
		e.query, e.hasQuery = q, true
	}
	parts := strings.Split(path, "/")
	e.typ = parts[0]
	if err := checkType(e.typ); err != nil {
		return nil, err
	}
	switch {
	case len(parts) == 2:
		e.id = parts[1]
	case len(parts) == 4 && parts[2] == "_history" && e.method == http.MethodGet:
		e.id, e.version = parts[1], parts[3]
	case len(parts) != 1:
		return nil, badQuery("request.url %q is not a type, Type/id or Type?criteria", rawURL)
	}
	if e.id != "" && !fhir.IsID(e.id) {
		return nil, badQuery("request.url %q names an id that is not a valid FHIR id", rawURL)
	}
	if v, err := strconv.Atoi(e.version); e.version != "" && (err != nil || v < 1) {
		return nil, badQuery("request.url %q names a version that is not a whole number from 1", rawURL)
	}
	if e.id != "" && hasQuery {
		return nil, badQuery("request.url %q has both an id and criteria", rawURL)
	}
	switch e.method {
	case http.MethodPost:
		if e.id != "" || hasQuery {
			return nil, badQuery("A POST entry's url is the resource type alone, not %q", rawURL)
		}
	case http.MethodPut:
		if e.id == "" && !hasQuery {
			return nil, badQuery("A PUT entry's url is Type/id or Type?criteria, not %q", rawURL)
		}
	case http.MethodDelete:
		if e.id == "" && !hasQuery {
			return nil, badQuery("A DELETE entry's url is Type/id or Type?criteria, not %q", rawURL)
		}
	case http.MethodPatch:
		if e.id == "" {
			return nil, badQuery("A PATCH entry's url is Type/id, not %q", rawURL)
		}
		p, err := entryPatch(e.resource)
		if err != nil {
			return nil, err
		}
		e.patch = p
	case http.MethodGet:
	default:
		return nil, badQuery("request.method must be GET, POST, PUT, PATCH or DELETE, not %q", e.method)
	}
	if (e.method == http.MethodPost || e.method == http.MethodPut) && e.resource == nil {
		return nil, invalidResource("required", "resource", "A %s entry needs a resource", e.method)
	}
	return e, nil
}

// parseCriteria reads a query string of an entry, refusing what no search
// value may hold (a NUL, bytes that are not UTF-8) as the API's own URLs
// are refused.
func parseCriteria(query string) (url.Values, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	for k, vs := range q {
		for _, v := range append(vs, k) {
			if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
				return nil, errors.New("a NUL or a byte that is not UTF-8")
			}
		}
	}
	return q, nil
}

// entryPatch reads a PATCH entry's JSON Patch, carried as a Binary whose
// data is the patch (as Medplum's clients send it).
func entryPatch(resource any) (jsonpatch.Patch, error) {
	bin, _ := resource.(map[string]any)
	rt, _ := bin["resourceType"].(string)
	ct, _ := bin["contentType"].(string)
	data, _ := bin["data"].(string)
	if rt != "Binary" || ct != "application/json-patch+json" {
		return nil, badQuery("A PATCH entry's resource must be a Binary with contentType application/json-patch+json and the JSON Patch as its data")
	}
	doc, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, badQuery("A PATCH entry's Binary.data is not base64")
	}
	return decodePatch(doc)
}

// etagVersion reads the version out of W/"3" or "3".
func etagVersion(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	return strings.Trim(tag, `"`)
}

// transaction runs entries as one FHIR transaction.
func (t Store) transaction(ctx context.Context, entries []*entry) (BundleResult, error) {
	set, err := t.settings(ctx)
	if err != nil {
		return BundleResult{}, err
	}
	if err := t.checkEntries(ctx, entries); err != nil {
		return BundleResult{}, err
	}
	at := resourceTime()
	err = t.bundleTx(ctx, func(tx *gorm.DB, bulk bulkInserter) error {
		return t.runTransaction(ctx, tx, bulk, entries, set, at)
	})
	if err != nil {
		return BundleResult{}, err
	}
	out := BundleResult{Type: "transaction-response", Entries: make([]EntryResult, len(entries))}
	for i, e := range entries {
		out.Entries[i] = *e.done
	}
	return out, nil
}

// checkEntries refuses, before anything is written, a transaction with an
// entry the store may not run (a type the policy forbids, another member's
// profile), an invalid id, or two entries for the same resource or fullUrl.
func (t Store) checkEntries(ctx context.Context, entries []*entry) error {
	fullURLs := map[string]bool{}
	targets := map[string]int{}
	for _, e := range entries {
		err := t.checkEntry(ctx, e)
		if err == nil && e.fullURL != "" {
			if fullURLs[e.fullURL] {
				err = badQuery("The fullUrl %q is used by an earlier entry", e.fullURL)
			}
			fullURLs[e.fullURL] = true
		}
		if err == nil && e.id != "" && e.method != http.MethodGet {
			key := e.typ + "/" + e.id
			if first, dup := targets[key]; dup {
				err = badQuery("%s is changed by entry %d already: a transaction changes each resource once", key, first)
			}
			targets[key] = e.index
		}
		if err != nil {
			return &EntryError{Index: e.index, Err: err}
		}
	}
	return nil
}

// checkEntry refuses an entry the store may not run.
func (t Store) checkEntry(ctx context.Context, e *entry) error {
	if e.method == http.MethodGet {
		if e.id == "" && !fhir.IsSystemType(e.typ) {
			// The included resources would be read outside the
			// transaction (see getEntry).
			q, err := e.search()
			if err != nil {
				return err
			}
			if len(q.includes) > 0 {
				return badQuery("A transaction's GET entries cannot use _include or _revinclude; send the search in a batch")
			}
		}
		return t.checkRead(e.typ)
	}
	if err := t.mayWrite(e.typ); err != nil {
		return err
	}
	if e.method == http.MethodPut && e.id != "" {
		if err := checkID(e.typ, e.id); err != nil {
			return err
		}
	}
	if e.id != "" {
		if err := t.checkProfileWrite(ctx, e.typ, e.id); err != nil {
			return err
		}
	}
	if e.hasQuery && e.method != http.MethodGet {
		if _, err := t.condition(e.typ, e.query); err != nil {
			return err
		}
	}
	return nil
}

// runTransaction does the work of a transaction inside tx, in the
// specification's order.
func (t Store) runTransaction(ctx context.Context, tx *gorm.DB, bulk bulkInserter, entries []*entry, set settings, at time.Time) error {
	byMethod := map[string][]*entry{}
	for _, e := range entries {
		byMethod[e.method] = append(byMethod[e.method], e)
	}
	fail := func(e *entry, err error) error { return &EntryError{Index: e.index, Err: err} }
	for _, e := range byMethod[http.MethodDelete] {
		if err := t.deleteEntry(ctx, tx, e); err != nil {
			return fail(e, err)
		}
	}
	// Which id each write goes to, so that references to the fullUrls of
	// new resources can be replaced before anything is validated.
	ids := map[string]string{}
	for _, e := range append(append([]*entry(nil), byMethod[http.MethodPost]...), byMethod[http.MethodPut]...) {
		if err := t.placeEntry(ctx, tx, e); err != nil {
			return fail(e, err)
		}
		if e.fullURL != "" && e.target != "" {
			ids[e.fullURL] = e.typ + "/" + e.target
		}
	}
	conditional := map[string]string{}
	var written []*entry
	pending := map[string]bool{}
	for _, e := range entries {
		if e.done != nil || (e.method != http.MethodPost && e.method != http.MethodPut) {
			continue
		}
		if err := t.resolveEntry(tx, e, ids, conditional); err != nil {
			return fail(e, err)
		}
		written = append(written, e)
		pending[e.typ+"/"+e.target] = true
	}
	if err := eachEntry(written, func(e *entry) error { return validateEntry(e, set) }); err != nil {
		return err
	}
	if set.checkRefs {
		// Every target looked up at once; each entry's refused on its own.
		refs := make([][]fhir.Reference, len(written))
		var all []fhir.Reference
		for i, e := range written {
			refs[i] = fhir.References(e.res)
			if len(refs[i]) > MaxReferences {
				return fail(e, invalidResource("too-costly", "", "The resource has %d references; at most %d are accepted", len(refs[i]), MaxReferences))
			}
			all = append(all, refs[i]...)
		}
		live, err := liveTargets(tx, t.projectID, all, pending)
		if err != nil {
			return err
		}
		for i, e := range written {
			if err := refsFound(refs[i], live); err != nil {
				return fail(e, err)
			}
		}
	}
	// References are checked above; a write need not check them again.
	noRefs := set
	noRefs.checkRefs = false
	unused, err := t.unusedIDs(tx, written)
	if err != nil {
		return err
	}
	var created []*entry
	for _, e := range written {
		if (e.method == http.MethodPost || unused[e]) && !t.limited(e.typ, true) {
			created = append(created, e)
			continue
		}
		if e.method == http.MethodPost {
			r, err := t.writeNext(tx, e.typ, e.target, e.res, 0, noRefs)
			if err != nil {
				return fail(e, err)
			}
			r, err = t.redact(r)
			if err != nil {
				return fail(e, err)
			}
			e.done = &EntryResult{Status: http.StatusCreated, Resource: r}
		}
	}
	if err := t.insertCreated(tx, bulk, created, at); err != nil {
		var ee *EntryError
		if errors.As(err, &ee) {
			return err
		}
		return fmt.Errorf("storing the new resources: %w", err)
	}
	for _, e := range entries {
		if e.done != nil {
			continue
		}
		var err error
		switch e.method {
		case http.MethodPut:
			var r Resource
			var made bool
			r, made, err = t.put(tx, e.typ, e.target, e.res, noRefs, e.ifMatch, e.mode)
			e.done = &EntryResult{Status: http.StatusOK, Resource: r}
			if made {
				e.done.Status = http.StatusCreated
			}
		case http.MethodPatch:
			var r Resource
			r, err = t.patchIn(tx, e.typ, e.id, e.patch, set, e.ifMatch)
			e.done = &EntryResult{Status: http.StatusOK, Resource: r}
		}
		if err != nil {
			return fail(e, err)
		}
	}
	for _, e := range byMethod[http.MethodGet] {
		r, err := t.getEntry(ctx, tx, e)
		if err != nil {
			return fail(e, err)
		}
		e.done = &r
	}
	return nil
}

// unusedIDs finds the PUT entries (without If-Match) whose id the project
// has never used, in one statement: they are created with the POSTs,
// set-based, instead of one by one. On PostgreSQL the rows of the ids in
// use are locked, as a single PUT locks its row.
func (t Store) unusedIDs(tx *gorm.DB, written []*entry) (map[*entry]bool, error) {
	idsByType := map[string][]string{}
	for _, e := range written {
		if e.method == http.MethodPut && e.ifMatch == "" {
			idsByType[e.typ] = append(idsByType[e.typ], e.target)
		}
	}
	if len(idsByType) == 0 {
		return nil, nil
	}
	rows, err := currentRows(tx, t.projectID, idsByType, true)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, r := range rows {
		used[r.ResourceType+"/"+r.ID] = true
	}
	out := map[*entry]bool{}
	for _, e := range written {
		if e.method == http.MethodPut && e.ifMatch == "" && !used[e.typ+"/"+e.target] {
			out[e] = true
		}
	}
	return out, nil
}

// deleteEntry deletes the resource a DELETE entry names, or the one its
// criteria match (none matching deletes nothing).
func (t Store) deleteEntry(ctx context.Context, tx *gorm.DB, e *entry) error {
	id := e.id
	if e.hasQuery {
		match, found, err := t.matchWhere(tx, e.typ, e.query, "search")
		if err != nil {
			return err
		}
		if !found {
			e.done = &EntryResult{Status: http.StatusNoContent, Resource: Resource{Type: e.typ}}
			return nil
		}
		if err := t.checkProfileWrite(ctx, e.typ, match.ID); err != nil {
			return err
		}
		id = match.ID
	}
	if err := t.deleteIn(tx, e.typ, id); err != nil {
		return err
	}
	e.done = &EntryResult{Status: http.StatusNoContent, Resource: Resource{Type: e.typ, ID: id, Deleted: true}}
	return nil
}

// matchWhere runs the condition criteria inside tx (see matchOne).
func (t Store) matchWhere(tx *gorm.DB, resourceType string, criteria url.Values, header string) (Resource, bool, error) {
	cond, err := t.condition(resourceType, criteria)
	if err != nil {
		return Resource{}, false, err
	}
	return t.matchOne(tx, cond, header)
}

// placeEntry decides which id a POST or PUT entry writes: a new one, its
// own, or the one its condition matches. A create whose ifNoneExist
// matches is done: it answers the match.
func (t Store) placeEntry(ctx context.Context, tx *gorm.DB, e *entry) error {
	switch {
	case e.method == http.MethodPost && e.ifNoneExist != nil:
		match, found, err := t.matchWhere(tx, e.typ, e.ifNoneExist, "ifNoneExist")
		if err != nil {
			return err
		}
		if found {
			e.target = match.ID
			e.done = &EntryResult{Status: http.StatusOK, Resource: match}
			return nil
		}
		e.target = uuid.NewString()
	case e.method == http.MethodPost:
		e.target = uuid.NewString()
	case e.hasQuery:
		match, found, err := t.matchWhere(tx, e.typ, e.query, "search")
		if err != nil {
			return err
		}
		bodyID := resourceID(e.resource)
		switch {
		case found && bodyID != "" && bodyID != match.ID:
			return invalidResource("invalid", e.typ+".id",
				"The resource id %q is not the id of the resource the criteria match (%s)", bodyID, match.ID)
		case found:
			e.target, e.mode = match.ID, mustExist
			return t.checkProfileWrite(ctx, e.typ, match.ID)
		case bodyID != "":
			if err := checkID(e.typ, bodyID); err != nil {
				return err
			}
			e.target, e.mode = bodyID, mustBeNew
		default:
			e.target, e.mode = uuid.NewString(), mustBeNew
		}
	default:
		e.target, e.mode = e.id, mayCreate
	}
	return nil
}

// resourceID is the id a resource as sent carries, if any.
func resourceID(v any) string {
	m, _ := v.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

// resolveEntry replaces the references of a POST or PUT entry's resource:
// fullUrls of this transaction's resources, and conditional references
// "Type?criteria", each resolved once through conditional.
func (t Store) resolveEntry(tx *gorm.DB, e *entry, ids, conditional map[string]string) error {
	var problem error
	rewriteReferences(e.resource, func(ref string) string {
		if id, ok := ids[ref]; ok {
			return id
		}
		if strings.HasPrefix(ref, "urn:uuid:") && problem == nil {
			problem = invalidResource("not-found", "", "The reference %q names no fullUrl of this Bundle's entries", ref)
			return ref
		}
		typ, query, isCond := strings.Cut(ref, "?")
		if !isCond || !fhir.IsResourceType(typ) || problem != nil {
			return ref
		}
		if id, ok := conditional[ref]; ok {
			return id
		}
		id, err := t.resolveConditional(tx, typ, query)
		if err != nil {
			problem = err
			return ref
		}
		conditional[ref] = id
		return id
	})
	return problem
}

// validateEntry validates a POST or PUT entry's resource, its references
// resolved, for the write.
func validateEntry(e *entry, set settings) error {
	res, err := prepareResource(e.typ, e.resource, set.strict, e.method == http.MethodPost)
	if err != nil {
		return err
	}
	if e.method == http.MethodPut {
		bodyID, _ := res["id"].(string)
		switch {
		case e.hasQuery && bodyID == "":
		case bodyID != e.target:
			return invalidResource("invalid", e.typ+".id", "The resource id %q must match the id in the url %q", bodyID, e.target)
		}
	}
	e.res = res
	return nil
}

// resolveConditional finds the one resource a conditional reference
// "Type?criteria" names.
func (t Store) resolveConditional(tx *gorm.DB, typ, query string) (string, error) {
	criteria, err := parseCriteria(query)
	if err != nil {
		return "", badQuery("The conditional reference %s?%s is not a valid search", typ, query)
	}
	if err := t.checkRead(typ); err != nil {
		return "", err
	}
	match, found, err := t.matchWhere(tx, typ, criteria, "conditional reference")
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("%w: the conditional reference %s?%s matches no resource", ErrPreconditionFailed, typ, query)
	}
	return typ + "/" + match.ID, nil
}

// rewriteReferences replaces, at any depth of v (contained resources and
// extensions included), every "reference" string by what replace returns.
func rewriteReferences(v any, replace func(string) string) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if s, ok := child.(string); ok && k == "reference" {
				x[k] = replace(s)
				continue
			}
			rewriteReferences(child, replace)
		}
	case []any:
		for _, child := range x {
			rewriteReferences(child, replace)
		}
	}
}

// search is the search a GET entry without an id asks for.
func (e *entry) search() (SearchQuery, error) {
	params := e.query
	if params == nil {
		params = url.Values{}
	}
	return ParseSearch(e.typ, params, false)
}

// getEntry reads what a GET entry asks for, inside tx: a resource, one of
// its versions, or a search.
func (t Store) getEntry(ctx context.Context, tx *gorm.DB, e *entry) (EntryResult, error) {
	if fhir.IsSystemType(e.typ) {
		// The shared definitions are no rows of the transaction.
		return t.batchEntry(ctx, e)
	}
	if e.id == "" {
		q, err := e.search()
		if err != nil {
			return EntryResult{}, err
		}
		if err := t.limitSearch(&q); err != nil {
			return EntryResult{}, err
		}
		res, err := t.search(tx, q)
		if err != nil {
			return EntryResult{}, err
		}
		if res.Resources, err = t.redactAll(res.Resources); err != nil {
			return EntryResult{}, err
		}
		if res, err = q.shapeAll(res); err != nil {
			return EntryResult{}, err
		}
		return EntryResult{Status: http.StatusOK, Search: &res}, nil
	}
	query := `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resources WHERE project_id = ? AND resource_type = ? AND id = ?`
	args := []any{t.projectID, e.typ, e.id}
	if e.version != "" {
		if t.hasCriteria(e.typ) {
			return EntryResult{}, fmt.Errorf("%w: your access policy limits %s resources by criteria, so only the current version is available", kit.ErrForbidden, e.typ)
		}
		query = `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
			WHERE project_id = ? AND resource_type = ? AND id = ? AND version_id = ?`
		args = append(args, e.version)
	}
	rows, err := scanResources(tx.Raw(query, args...))
	switch {
	case err != nil:
		return EntryResult{}, err
	case len(rows) == 0:
		return EntryResult{}, kit.ErrNotFound
	}
	if ok, err := t.matchesCriteria(tx, e.typ, e.id, false); err != nil || !ok {
		return EntryResult{}, cmpErr(err, kit.ErrNotFound)
	}
	if rows[0].Deleted {
		return EntryResult{}, ErrGone
	}
	r, err := t.redact(rows[0])
	return EntryResult{Status: http.StatusOK, Resource: r}, err
}

// batch runs each entry on its own, as the single interactions do, and
// answers each with its own status.
func (t Store) batch(ctx context.Context, entries []*entry) BundleResult {
	out := BundleResult{Type: "batch-response", Entries: make([]EntryResult, len(entries))}
	for i, e := range entries {
		r, err := t.batchEntry(ctx, e)
		if err != nil {
			r = EntryResult{Err: err}
		}
		out.Entries[i] = r
	}
	return out
}

// batchEntry runs one entry of a batch.
func (t Store) batchEntry(ctx context.Context, e *entry) (EntryResult, error) {
	if e.invalid != nil {
		return EntryResult{}, e.invalid
	}
	body := func() ([]byte, error) {
		if e.resource == nil {
			return nil, invalidResource("required", "resource", "A %s entry needs a resource", e.method)
		}
		return json.Marshal(e.resource)
	}
	switch e.method {
	case http.MethodGet:
		if e.id == "" {
			q, err := e.search()
			if err != nil {
				return EntryResult{}, err
			}
			res, err := t.Search(ctx, q)
			return EntryResult{Status: http.StatusOK, Search: &res}, err
		}
		var r Resource
		var err error
		if e.version != "" {
			r, err = t.ReadResourceVersion(ctx, e.typ, e.id, e.version)
		} else {
			r, err = t.ReadResource(ctx, e.typ, e.id)
		}
		return EntryResult{Status: http.StatusOK, Resource: r}, err
	case http.MethodPost:
		b, err := body()
		if err != nil {
			return EntryResult{}, err
		}
		r, created, err := t.create(ctx, e.typ, b, e.ifNoneExist)
		return written(r, created), err
	case http.MethodPut:
		b, err := body()
		if err != nil {
			return EntryResult{}, err
		}
		var r Resource
		var created bool
		if e.hasQuery {
			r, created, err = t.UpdateResourceWhere(ctx, e.typ, b, e.query, e.ifMatch)
		} else {
			r, created, err = t.PutResource(ctx, e.typ, e.id, b, e.ifMatch)
		}
		return written(r, created), err
	case http.MethodPatch:
		r, err := t.patch(ctx, e.typ, e.id, e.patch, e.ifMatch)
		return written(r, false), err
	}
	id := e.id
	var err error
	if e.hasQuery {
		id, err = t.DeleteResourceWhere(ctx, e.typ, e.query)
	} else {
		err = t.DeleteResource(ctx, e.typ, e.id)
	}
	return EntryResult{Status: http.StatusNoContent, Resource: Resource{Type: e.typ, ID: id, Deleted: id != ""}}, err
}

func written(r Resource, created bool) EntryResult {
	if created {
		return EntryResult{Status: http.StatusCreated, Resource: r}
	}
	return EntryResult{Status: http.StatusOK, Resource: r}
}
