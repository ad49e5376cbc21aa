package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/promote"
	"enclave/models/secrets"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Comparer is what compare and promote need: the projects of the signed-in
// user (who may compare which), finding a project by id or name for the
// dashboard, and the comparison and promotion themselves.
type Comparer interface {
	Directory
	FindProject(ctx context.Context, field, ref string) (projects.Project, error)
	CompareProjects(ctx context.Context, box *secrets.Box, a, b string) (promote.Diff, error)
	PromoteProjects(ctx context.Context, box *secrets.Box, in promote.Input) (promote.Result, error)
}

// Compare serves compare and promote (dev → staging → prod): super admins
// compare any two projects on the dashboard, and an admin of two projects
// compares them below either. Another project the user is not an admin of
// does not exist for them (404).
type Compare struct {
	Sys Comparer
	// Box opens the secrets, to compare and copy their values in the
	// server; nil when the server has no valid key.
	Box *secrets.Box
}

const compareTitle = "Compare projects"

// Operator shows the dashboard's compare page: the pick form, and the
// comparison of ?a= and ?b= once both are given.
func (h *Compare) Operator(c echo.Context) error {
	var f forms.Compare
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	vm := operatorVM()
	vm.Pick, vm.Errors = f, errs
	if f.Picked() {
		a, b := h.find(c, "a", f.A, &vm.Errors), h.find(c, "b", f.B, &vm.Errors)
		if a.ID != "" && a.ID == b.ID {
			vm.Errors.Add("b", "Choose another project than A.")
		}
		if !vm.Errors.Any() {
			if err := h.compare(c, &vm, a.ID, b.ID); err != nil {
				return err
			}
		}
	}
	return h.operatorPage(c, statusOf(vm.Errors), vm)
}

// find is the project named by ref (an id or exact name) for the field; its
// problem is added to errs.
func (h *Compare) find(c echo.Context, field, ref string, errs *forms.Errors) projects.Project {
	if strings.TrimSpace(ref) == "" {
		errs.Add(field, "Give a project's id or name.")
		return projects.Project{}
	}
	p, err := h.Sys.FindProject(ctx(c), field, ref)
	switch {
	case errors.Is(err, kit.ErrNotFound):
		errs.Add(field, "No project has this id or name.")
	case kit.FieldErrors(err) != nil:
		errs.Merge(kit.FieldErrors(err))
	case err != nil:
		errs.Add(field, "This project could not be found: try again.")
	}
	return p
}

// OperatorPromote promotes the chosen items between the two projects of
// the dashboard's comparison, confirmed by the target's name.
func (h *Compare) OperatorPromote(c echo.Context) error {
	var f forms.Promote
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	vm := operatorVM()
	vm.Pick, vm.Promote = forms.Compare{A: f.A, B: f.B}, f
	a, b := h.find(c, "a", f.A, &errs), h.find(c, "b", f.B, &errs)
	if errs.Of("a") != "" || errs.Of("b") != "" || a.ID == b.ID {
		// The compared projects are gone or were never picked: the pick
		// form says so.
		vm.Errors = errs
		if a.ID != "" && a.ID == b.ID {
			vm.Errors.Add("b", "Choose another project than A.")
		}
		return h.operatorPage(c, http.StatusUnprocessableEntity, vm)
	}
	status, err := h.promote(c, &vm, f, errs, a.ID, b.ID, true)
	if err != nil {
		return err
	}
	p, err := pageFor(c, h.Sys, compareTitle)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ComparePage(p, vm), views.CompareResult(p, vm))
}

// operatorVM is the dashboard's page without a comparison.
func operatorVM() views.CompareVM {
	return views.CompareVM{Operator: true, SuperAdmin: true, PickURL: paths.AdminCompare.URL(), PromoteURL: paths.AdminPromote.URL()}
}

func (h *Compare) operatorPage(c echo.Context, status int, vm views.CompareVM) error {
	p, err := pageFor(c, h.Sys, compareTitle)
	if err != nil {
		return err
	}
	return render(c, status, views.ComparePage(p, vm))
}

// Page shows the console's compare page below project A (the scope's): the
// choice of another project the user is an admin of, and the comparison
// with ?with= once chosen.
func (h *Compare) Page(c echo.Context, sc models.Scope) error {
	var f forms.Compare
	vm, errs, err := h.consoleVM(c, sc, &f)
	if err != nil {
		return err
	}
	vm.Pick, vm.Errors = f, errs
	if with := strings.TrimSpace(f.With); with != "" {
		if with == sc.Project().ID {
			vm.Errors.Add("with", "Choose another project than this one.")
		} else if !hasChoice(vm.Choices, with) {
			return echo.ErrNotFound
		} else if err := h.compare(c, &vm, sc.Project().ID, with); err != nil {
			return err
		}
	}
	p, err := projectPage(c, h.Sys, sc, compareTitle)
	if err != nil {
		return err
	}
	return render(c, statusOf(vm.Errors), views.ComparePage(p, vm))
}

// Promote promotes the chosen items between the scope's project (A) and
// the one in with (B), of which the user must be an admin too.
func (h *Compare) Promote(c echo.Context, sc models.Scope) error {
	var f forms.Promote
	vm, errs, err := h.consoleVM(c, sc, &f)
	if err != nil {
		return err
	}
	vm.Pick, vm.Promote = forms.Compare{With: f.With}, f
	p, err := projectPage(c, h.Sys, sc, compareTitle)
	if err != nil {
		return err
	}
	with := strings.TrimSpace(f.With)
	switch {
	case with == "" || with == sc.Project().ID:
		vm.Errors.Add("with", "Choose another project to compare this one with.")
		return render(c, http.StatusUnprocessableEntity, views.ComparePage(p, vm))
	case !hasChoice(vm.Choices, with):
		return echo.ErrNotFound
	}
	status, err := h.promote(c, &vm, f, errs, sc.Project().ID, with, vm.SuperAdmin)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ComparePage(p, vm), views.CompareResult(p, vm))
}

// consoleVM binds the request into f (see bindForm) and builds the
// console's page without a comparison: the projects, other than the
// scope's, that the user is an active admin of.
func (h *Compare) consoleVM(c echo.Context, sc models.Scope, f any) (views.CompareVM, forms.Errors, error) {
	id := sc.Project().ID
	vm := views.CompareVM{PickURL: paths.Compare.URL(id), PromoteURL: paths.PromoteProject.URL(id)}
	errs, err := bindForm(c, f)
	if err != nil {
		return vm, errs, err
	}
	u, _ := CurrentUser(c)
	list, err := projectsOf(c, h.Sys, u.ID)
	if err != nil {
		return vm, errs, err
	}
	vm.SuperAdmin = models.SuperAdminAmong(list)
	for _, a := range list {
		if a.Project.ID != id && a.Membership.Active && a.Membership.Admin {
			vm.Choices = append(vm.Choices, views.Option{Value: a.Project.ID, Label: a.Project.Name})
		}
	}
	return vm, errs, nil
}

// hasChoice reports whether id is one of the projects the page offers.
func hasChoice(choices []views.Option, id string) bool {
	return slices.ContainsFunc(choices, func(o views.Option) bool { return o.Value == id })
}

// promote runs the promotion of form f between a and b, then compares
// them again into vm (with the outcome, or the form's errors), and returns
// the answer's status.
func (h *Compare) promote(c echo.Context, vm *views.CompareVM, f forms.Promote, errs forms.Errors, a, b string, operator bool) (int, error) {
	var res promote.Result
	if !errs.Any() {
		from, to := a, b
		if f.Reversed() {
			from, to = b, a
		}
		var err error
		res, err = h.Sys.PromoteProjects(ctx(c), h.Box, promote.Input{From: from, To: to, Items: f.Items, Confirm: f.Confirm,
			Actor: Actor(c), SuperAdmin: operator})
		if fields := kit.FieldErrors(err); fields != nil {
			errs.Merge(fields)
		} else if errors.Is(err, kit.ErrNotFound) {
			return 0, echo.ErrNotFound
		} else if err != nil {
			return 0, err
		}
	}
	if err := h.compare(c, vm, a, b); err != nil {
		return 0, err
	}
	if errs.Any() {
		vm.PromoteError = errs
		return http.StatusUnprocessableEntity, nil
	}
	vm.Promote = forms.Promote{Direction: f.Direction}
	items := strconv.Itoa(len(res.Items)) + " items"
	if len(res.Items) == 1 {
		items = "1 item"
	}
	vm.Notice = "Promoted " + items + " from " + res.From.Name + " to " + res.To.Name + "."
	if len(res.NewClients) > 0 {
		vm.Notice += " New API clients in " + res.To.Name + " (" + strings.Join(res.NewClients, ", ") +
			") have a secret nobody knows yet: rotate it on their page to use them."
	}
	return http.StatusOK, nil
}

// compare fills vm with the comparison of a with b.
func (h *Compare) compare(c echo.Context, vm *views.CompareVM, a, b string) error {
	d, err := h.Sys.CompareProjects(ctx(c), h.Box, a, b)
	if errors.Is(err, kit.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	vm.Compared = true
	vm.AID, vm.AName, vm.BID, vm.BName = d.A.ID, d.A.Name, d.B.ID, d.B.Name
	vm.Changed = d.Changed()
	vm.Rows = make([]views.CompareRowVM, len(d.Items))
	for i, it := range d.Items {
		vm.Rows[i] = views.CompareRowVM{Key: it.Key(), Kind: string(it.Kind), Name: it.Name, Label: it.Name, State: string(it.State),
			A: it.A, B: it.B, Promotable: it.Promotable}
		if it.Kind == promote.Setting && it.Name == promote.SettingFeatures && !vm.SuperAdmin {
			// Only a super admin changes features (the promotion refuses
			// anyone else too).
			vm.Rows[i].Promotable = false
		}
		if it.Kind == promote.Setting {
			// Settings by the names the settings page gives them; an
			// empty value is shown as such, not as a missing one.
			if l := settingLabels[it.Name]; l != "" {
				vm.Rows[i].Label = strings.ToUpper(l[:1]) + l[1:]
			}
			vm.Rows[i].A, vm.Rows[i].B = shownSetting(it.A), shownSetting(it.B)
		}
	}
	return nil
}

func shownSetting(v string) string {
	if v == "" {
		return "(empty)"
	}
	return v
}
