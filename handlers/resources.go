package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"enclave/models"
	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Resources serves the console's FHIR resource browser: pick a type, search,
// read, create, edit and delete, all through the request's tenant store.
type Resources struct {
	Sys FormDirectory
}

// commonTypes come first on the type picker, in this order.
var commonTypes = []string{"Patient", "Practitioner", "Organization", "Observation", "Encounter",
	"Condition", "Procedure", "MedicationRequest", "DiagnosticReport", "AllergyIntolerance"}

// Types lets the member pick a type; ?type=X jumps to X's search.
func (h *Resources) Types(c echo.Context, sc models.Scope) error {
	var vm views.ResourceTypesVM
	errs, err := bindForm(c, &vm.Jump)
	if err != nil {
		return err
	}
	if typed := strings.TrimSpace(vm.Jump.Type); typed != "" {
		if typ, ok := knownType(typed); ok {
			return c.Redirect(http.StatusSeeOther, paths.ResourceSearch.URL(sc.Project().ID, typ))
		}
		errs.Add("type", fmt.Sprintf("%q is not a FHIR R4 resource type.", typed))
	}
	vm.JumpErrors = errs
	status := http.StatusOK
	if errs.Any() {
		status = http.StatusUnprocessableEntity
	}
	t := sc.Store()
	var readable []string
	for _, typ := range commonTypes {
		if t.CanRead(typ) { // the member's access policy may leave a type out
			readable = append(readable, typ)
		}
	}
	counts, err := t.CountByType(ctx(c), readable)
	if err != nil {
		return err
	}
	for _, typ := range readable {
		vm.Common = append(vm.Common, views.TypeLinkVM{Name: typ, Count: counts[typ], Counted: true})
	}
	for _, typ := range fhir.ResourceTypes() {
		if read, write := t.Can(typ); read { // a policy lists only what the member may read
			vm.All = append(vm.All, views.TypeLinkVM{Name: typ, Shared: fhir.IsSystemType(typ), ReadOnly: !write && !fhir.IsSystemType(typ)})
		}
	}
	p, err := projectPage(c, h.Sys, sc, "Resources")
	if err != nil {
		return err
	}
	return render(c, status, views.ResourceTypesPage(p, vm))
}

// knownType finds a resource type by name, forgiving the letter case.
func knownType(name string) (string, bool) {
	if fhir.IsResourceType(name) {
		return name, true
	}
	for _, t := range fhir.ResourceTypes() {
		if strings.EqualFold(t, name) {
			return t, true
		}
	}
	return "", false
}

// typeParam is the resource type in the URL; an unknown one is a 404.
func typeParam(c echo.Context) (string, error) {
	typ := c.Param("type")
	if !fhir.IsResourceType(typ) {
		return "", echo.ErrNotFound
	}
	return typ, nil
}

// writableType is the resource type in the URL when the member may change
// resources of it, and otherwise a 403 that says why: the shared system
// types are read-only for everyone, and a member's access policy can make
// a type read-only or leave it out.
func writableType(c echo.Context, sc models.Scope) (string, error) {
	typ, err := typeParam(c)
	if err != nil {
		return "", err
	}
	if fhir.IsSystemType(typ) {
		return "", echo.NewHTTPError(http.StatusForbidden, typ+" resources are shared FHIR definitions and are read-only.")
	}
	switch read, write := sc.Store().Can(typ); {
	case !read:
		return "", echo.NewHTTPError(http.StatusForbidden, cannotSee(typ))
	case !write:
		return "", echo.NewHTTPError(http.StatusForbidden, readOnlyType(typ))
	}
	return typ, nil
}

// cannotSee says why a member cannot open a type's pages.
func cannotSee(typ string) string {
	return "Your access policy does not let you see " + typ + " resources."
}

// readOnlyType says why a member cannot create, edit or delete a type's
// resources.
func readOnlyType(typ string) string {
	return "Your access policy lets you read " + typ + " but not change it."
}

// refusal is the store's reason for refusing a read or write (its
// ErrForbidden detail, such as "your access policy only allows Patient
// resources matching …"), as a sentence to show.
func refusal(err error) string {
	msg := strings.TrimSpace(detail(err, kit.ErrForbidden))
	if msg == "" || msg == kit.ErrForbidden.Error() {
		return "You are not allowed to do that."
	}
	return strings.ToUpper(msg[:1]) + strings.TrimSuffix(msg[1:], ".") + "."
}

// consoleKeys are query keys of the search page that are not FHIR search
// parameters: the free query field and the notice after a delete.
var consoleKeys = map[string]bool{"q": true, "deleted": true}

// fhirID is the form of a FHIR resource id.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// Search shows the search form of a type and one page of matches. The query
// string is FHIR's (name=smith&_count=20), plus q, a free query typed in the
// form, so result pages can be bookmarked and shared.
func (h *Resources) Search(c echo.Context, sc models.Scope) error {
	typ, err := typeParam(c)
	if err != nil {
		return err
	}
	read, write := sc.Store().Can(typ)
	if !read {
		return echo.NewHTTPError(http.StatusForbidden, cannotSee(typ))
	}
	in := c.QueryParams()
	vm := searchForm(typ, in)
	vm.ReadOnly = !write && !vm.Shared
	if id := in.Get("deleted"); fhirID.MatchString(id) {
		vm.Notice = typ + "/" + id + " deleted."
	}
	status := http.StatusOK
	if err := h.runSearch(c, sc, typ, in, &vm); err != nil {
		var qe *resources.QueryError
		switch {
		case errors.As(err, &qe):
			vm.Error = qe.Message
		case errors.Is(err, kit.ErrForbidden):
			// A search by a field the member's policy hides: said next to
			// the query, which they can change.
			vm.Error = refusal(err)
		default:
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	p, err := projectPage(c, h.Sys, sc, typ)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ResourceSearchPage(p, vm), views.ResourceSearchPanel(p, vm))
}

func (h *Resources) runSearch(c echo.Context, sc models.Scope, typ string, in url.Values, vm *views.ResourceSearchVM) error {
	params, err := searchParams(typ, in)
	if err != nil {
		return err
	}
	q, err := resources.ParseSearch(typ, params, false)
	if err != nil {
		return err
	}
	res, err := sc.Store().Search(ctx(c), q)
	if err != nil {
		return err
	}
	// Only the last page knows the total; the others say "next".
	vm.None = res.Counted && res.Total == 0
	if res.Counted {
		vm.Of = strconv.Itoa(res.Total)
	}
	vm.From, vm.To = q.Offset+1, q.Offset+len(res.Resources)
	for _, r := range res.Resources {
		vm.Rows = append(vm.Rows, views.ResourceRowVM{ID: r.ID, Summary: summarize(r.JSON), LastUpdated: timestamp(r),
			URL: paths.Resource.URL(sc.Project().ID, typ, r.ID)})
	}
	if q.Count > 0 && q.Offset > 0 {
		vm.PrevURL = pageURL(c, sc, typ, in, max(q.Offset-q.Count, 0))
	}
	if res.More {
		vm.NextURL = pageURL(c, sc, typ, in, q.Offset+q.Count)
	}
	return nil
}

// searchParams merges the form's fields (empty ones dropped) with the free
// query into FHIR search parameters. The console's defaults apply when the
// request names no sort or page size.
func searchParams(typ string, in url.Values) (url.Values, error) {
	out := url.Values{}
	for k, vs := range in {
		if consoleKeys[k] {
			continue
		}
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				out.Add(k, v)
			}
		}
	}
	if raw := strings.TrimSpace(in.Get("q")); raw != "" {
		if i := strings.Index(raw, "?"); i >= 0 {
			raw = raw[i+1:] // a pasted "Patient?name=x" or "?name=x"
		}
		extra, err := url.ParseQuery(raw)
		if err != nil {
			return nil, &resources.QueryError{Message: "The query is not a valid query string (name=value pairs joined with &): " + err.Error()}
		}
		for k, vs := range extra {
			out[k] = append(out[k], vs...)
		}
	}
	if !out.Has("_sort") && !fhir.IsSystemType(typ) {
		out.Set("_sort", "-_lastUpdated")
	}
	if !out.Has("_count") {
		out.Set("_count", strconv.Itoa(resources.DefaultSearchCount))
	}
	return out, nil
}

// pageURL is the current search with another _offset.
func pageURL(c echo.Context, sc models.Scope, typ string, in url.Values, offset int) string {
	q := url.Values{}
	for k, vs := range in {
		if k != "_offset" && k != "deleted" {
			q[k] = vs
		}
	}
	q.Set("_offset", strconv.Itoa(offset))
	return paths.ResourceSearch.URL(sc.Project().ID, typ) + "?" + q.Encode()
}

// formParams are the search parameters the form offers as fields, in this
// order, when the type has them.
var formParams = []string{"name", "family", "given", "identifier", "code", "gender", "birthdate", "status",
	"subject", "patient", "organization", "date", "address", "email", "phone", "category", "type", "class", "title", "url", "_id"}

// searchForm builds the form of a type's search page, filled from the query.
func searchForm(typ string, in url.Values) views.ResourceSearchVM {
	vm := views.ResourceSearchVM{Type: typ, Shared: fhir.IsSystemType(typ), Raw: in.Get("q"),
		Sort: in.Get("_sort"), Count: in.Get("_count"), Counts: []string{"10", "20", "50", "100"}}
	params := fhir.SearchParams(typ)
	usable := func(code string) bool {
		p, ok := params[code]
		if vm.Shared {
			return code == "_id" || code == "name" || code == "url"
		}
		return ok && (p.Type == fhir.TypeString || p.Type == fhir.TypeToken || p.Type == fhir.TypeDate || p.Type == fhir.TypeReference)
	}
	for _, code := range formParams {
		if usable(code) && len(vm.Fields) < 9 {
			vm.Fields = append(vm.Fields, searchField(code, params[code].Type, in.Get(code)))
		}
	}
	var all []string
	for code, p := range params {
		searchable := usable(code) || !vm.Shared && resources.Searchable(p)
		if searchable && (!strings.HasPrefix(code, "_") || code == "_id" || code == "_lastUpdated") {
			all = append(all, code+" ("+string(p.Type)+")")
		}
	}
	slices.Sort(all)
	vm.AllParams = all
	if vm.Count == "" {
		vm.Count = strconv.Itoa(resources.DefaultSearchCount)
	}
	if !slices.Contains(vm.Counts, vm.Count) {
		vm.Counts = append(vm.Counts, vm.Count)
	}
	if !vm.Shared {
		if vm.Sort == "" {
			vm.Sort = "-_lastUpdated"
		}
		vm.SortOptions = []views.OptionVM{{Value: "-_lastUpdated", Label: "Newest first"}, {Value: "_lastUpdated", Label: "Oldest first"}, {Value: "_id", Label: "Id"}}
		for _, f := range vm.Fields {
			if f.Type == string(fhir.TypeString) || f.Type == string(fhir.TypeDate) {
				vm.SortOptions = append(vm.SortOptions, views.OptionVM{Value: f.Code, Label: f.Code + " ↑"}, views.OptionVM{Value: "-" + f.Code, Label: f.Code + " ↓"})
			}
		}
		if !slices.ContainsFunc(vm.SortOptions, func(o views.OptionVM) bool { return o.Value == vm.Sort }) {
			vm.SortOptions = append(vm.SortOptions, views.OptionVM{Value: vm.Sort, Label: vm.Sort})
		}
	}
	return vm
}

func searchField(code string, typ fhir.ParamType, value string) views.SearchFieldVM {
	f := views.SearchFieldVM{Code: code, Type: string(typ), Value: value}
	switch {
	case code == "_id":
		f.Type, f.Placeholder = "id", "exact id"
	case typ == fhir.TypeString:
		f.Placeholder = "starts with…"
	case typ == fhir.TypeToken:
		f.Placeholder = "code or system|code"
	case typ == fhir.TypeDate:
		f.Placeholder = "e.g. ge1990-01-01"
	case typ == fhir.TypeReference:
		f.Placeholder = "e.g. Patient/123"
	}
	return f
}

// resourceErr turns the store's errors about one resource into pages: a
// deleted resource is 410, a bad type or version 404, and a refusal by the
// member's access policy a 403 that says why.
func resourceErr(err error) error {
	var qe *resources.QueryError
	if errors.As(err, &qe) {
		return echo.ErrNotFound
	}
	if errors.Is(err, kit.ErrForbidden) {
		return echo.NewHTTPError(http.StatusForbidden, refusal(err)).SetInternal(err)
	}
	return err
}

// Values of savedParam on a resource's page after the editor saved it.
const (
	createdResource = "created"
	updatedResource = "updated"
)

// Show displays a resource: key fields, JSON and history, and what the
// editor did when it sent the browser here (see savedParam).
func (h *Resources) Show(c echo.Context, sc models.Scope) error {
	typ, err := typeParam(c)
	if err != nil {
		return err
	}
	t := sc.Store()
	r, err := t.ReadResource(ctx(c), typ, c.Param("id"))
	if err != nil {
		return resourceErr(err)
	}
	vm := resourceVM(sc, r)
	switch c.QueryParam(savedParam) {
	case createdResource:
		vm.Notice = "Created " + typ + "/" + r.ID + "."
	case updatedResource:
		vm.Notice = "Saved " + typ + "/" + r.ID + " as version " + r.VersionID + "."
	}
	if !vm.Shared {
		hist, err := t.ResourceHistory(ctx(c), typ, r.ID, resources.Page{Count: 50})
		switch {
		case errors.Is(err, kit.ErrForbidden):
			// The member's policy keeps earlier versions out of sight.
			hist = resources.History{}
		case err != nil:
			return resourceErr(err)
		}
		vm.HistoryTotal = hist.Total
		for _, v := range hist.Versions {
			vm.History = append(vm.History, views.VersionVM{Version: v.VersionID, LastUpdated: timestamp(v), Deleted: v.Deleted,
				Current: v.VersionID == r.VersionID, URL: paths.ResourceVersion.URL(sc.Project().ID, typ, r.ID, v.VersionID)})
		}
	}
	p, err := projectPage(c, h.Sys, sc, typ+"/"+r.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ResourcePage(p, vm))
}

// Version displays one past version of a resource.
func (h *Resources) Version(c echo.Context, sc models.Scope) error {
	typ, err := typeParam(c)
	if err != nil {
		return err
	}
	r, err := sc.Store().ReadResourceVersion(ctx(c), typ, c.Param("id"), c.Param("vid"))
	if err != nil {
		return resourceErr(err)
	}
	vm := resourceVM(sc, r)
	vm.Past = true
	p, err := projectPage(c, h.Sys, sc, typ+"/"+r.ID+" version "+r.VersionID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ResourcePage(p, vm))
}

func resourceVM(sc models.Scope, r resources.Resource) views.ResourceVM {
	_, write := sc.Store().Can(r.Type)
	shared := fhir.IsSystemType(r.Type)
	return views.ResourceVM{Type: r.Type, ID: r.ID, Version: r.VersionID, LastUpdated: timestamp(r), Summary: summarize(r.JSON),
		Fields: keyFields(sc, r.JSON), JSON: prettyJSON(r.JSON), Shared: shared, ReadOnly: !write && !shared}
}

// timestamp shows when a version was written; shared resources have none.
func timestamp(r resources.Resource) string {
	if r.LastUpdated.IsZero() {
		return ""
	}
	return r.LastUpdated.UTC().Format("2006-01-02 15:04:05")
}

// prettyJSON indents a resource, with resourceType, id and meta first as
// people expect (the store keeps the keys sorted).
func prettyJSON(b []byte) string {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err == nil {
		keys := slices.Sorted(maps.Keys(fields))
		first := []string{"resourceType", "id", "meta"}
		keys = slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(first, k) })
		var obj bytes.Buffer
		obj.WriteByte('{')
		for _, k := range append(first, keys...) {
			v, ok := fields[k]
			if !ok {
				continue
			}
			if obj.Len() > 1 {
				obj.WriteByte(',')
			}
			name, _ := json.Marshal(k)
			obj.Write(name)
			obj.WriteByte(':')
			obj.Write(v)
		}
		obj.WriteByte('}')
		b = obj.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// NewPage shows the editor with an empty resource of the type.
func (h *Resources) NewPage(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	return h.editor(c, sc, http.StatusOK, views.ResourceEditVM{Type: typ,
		Form: forms.Resource{JSON: "{\n  \"resourceType\": \"" + typ + "\"\n}", Token: models.NewFormToken()}})
}

// Create stores the submitted JSON as a new resource, once per form: the
// form's one-time token makes a second submission of it (a double click)
// land on the resource the first one made.
func (h *Resources) Create(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	vm := views.ResourceEditVM{Type: typ}
	if _, err := bindForm(c, &vm.Form); err != nil {
		return err
	}
	id, err := submitOnce(c, h.Sys, "resource:"+sc.Project().ID+"/"+typ, vm.Form.Token, func() (string, error) {
		r, err := sc.Store().CreateResource(ctx(c), typ, []byte(vm.Form.JSON))
		return r.ID, err
	})
	if err != nil {
		vm.Form.Token = resentToken(vm.Form.Token)
		return h.refused(c, sc, vm, err)
	}
	return redirect(c, savedURL(paths.Resource.URL(sc.Project().ID, typ, id), createdResource))
}

// EditPage loads the current version into the editor.
func (h *Resources) EditPage(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	r, err := sc.Store().ReadResource(ctx(c), typ, c.Param("id"))
	if err != nil {
		return resourceErr(err)
	}
	return h.editor(c, sc, http.StatusOK, views.ResourceEditVM{Type: typ, ID: r.ID,
		Form: forms.Resource{Version: r.VersionID, JSON: prettyJSON(r.JSON)}})
}

// Update saves the edited JSON as a new version, unless the resource changed
// since the editor loaded it (the loaded version goes back as If-Match).
func (h *Resources) Update(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	id := c.Param("id")
	vm := views.ResourceEditVM{Type: typ, ID: id}
	if _, err := bindForm(c, &vm.Form); err != nil {
		return err
	}
	if _, err := sc.Store().UpdateResource(ctx(c), typ, id, []byte(vm.Form.JSON), vm.Form.Version); err != nil {
		return h.refused(c, sc, vm, err)
	}
	return redirect(c, savedURL(paths.Resource.URL(sc.Project().ID, typ, id), updatedResource))
}

// refused shows the editor again, with the submitted JSON, after the store
// refused it: every validation issue (422) or the conflict (409).
func (h *Resources) refused(c echo.Context, sc models.Scope, vm views.ResourceEditVM, err error) error {
	var re *resources.ResourceError
	switch {
	case isPendingSubmission(err):
		vm.Issues = []views.IssueVM{{Message: pendingSubmission}}
		return h.editor(c, sc, http.StatusConflict, vm)
	case errors.As(err, &re):
		for _, is := range re.Issues {
			vm.Issues = append(vm.Issues, views.IssueVM{Expression: is.Expression, Message: is.Message})
		}
		return h.editor(c, sc, http.StatusUnprocessableEntity, vm)
	case errors.Is(err, resources.ErrPreconditionFailed) || errors.Is(err, kit.ErrConflict):
		vm.Conflict = "Someone changed " + vm.Type + "/" + vm.ID + " after you opened it"
		if cur, err := sc.Store().ReadResource(ctx(c), vm.Type, vm.ID); err == nil {
			vm.Conflict += " (you edited version " + vm.Form.Version + "; it is now at version " + cur.VersionID + ")"
		}
		vm.Conflict += ". Your changes were not saved; they are still below. Copy what you need, then load the current version."
		return h.editor(c, sc, http.StatusConflict, vm)
	}
	return resourceErr(err)
}

func (h *Resources) editor(c echo.Context, sc models.Scope, status int, vm views.ResourceEditVM) error {
	title := "New " + vm.Type
	if vm.ID != "" {
		title = "Edit " + vm.Type + "/" + vm.ID
	}
	p, err := projectPage(c, h.Sys, sc, title)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ResourceEditPage(p, vm), views.ResourceEditor(p, vm))
}

// DeletePage asks for confirmation (htmx asks with hx-confirm instead).
func (h *Resources) DeletePage(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	r, err := sc.Store().ReadResource(ctx(c), typ, c.Param("id"))
	if err != nil {
		return resourceErr(err)
	}
	p, err := projectPage(c, h.Sys, sc, "Delete "+typ+"/"+r.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ResourceDeletePage(p, resourceVM(sc, r)))
}

// Delete deletes the resource and goes back to the type's search.
func (h *Resources) Delete(c echo.Context, sc models.Scope) error {
	typ, err := writableType(c, sc)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := sc.Store().DeleteResource(ctx(c), typ, id); err != nil {
		return resourceErr(err)
	}
	return redirect(c, paths.ResourceSearch.URL(sc.Project().ID, typ)+"?deleted="+url.QueryEscape(id))
}
