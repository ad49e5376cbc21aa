package handlers

import (
	"errors"
	"net/http"
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

// Policies serves the access-policy editor.
type Policies struct {
	Sys Directory
}

// List shows the project's policies, and what the last change did when a
// save sent the browser here (see savedParam): a policy saved, by its id, or
// one deleted.
func (h *Policies) List(c echo.Context, sc models.Scope) error {
	return h.list(c, sc, c.QueryParam(savedParam))
}

// deletedPolicy is savedParam on the policy list after a deletion.
const deletedPolicy = "deleted"

func (h *Policies) list(c echo.Context, sc models.Scope, saved string) error {
	t := sc.Store()
	pols, err := t.AccessPolicies(ctx(c))
	if err != nil {
		return err
	}
	notice := ""
	if saved == deletedPolicy {
		notice = "Deleted the access policy."
	}
	rows := make([]views.PolicyRowVM, len(pols))
	for i, pol := range pols {
		if pol.ID == saved {
			notice = "Saved policy " + pol.Name + ": " + ruleSummary(pol.Rules) + "."
		}
		n, err := t.PolicyUsage(ctx(c), pol.ID)
		if err != nil {
			return err
		}
		rows[i] = views.PolicyRowVM{ID: pol.ID, Name: pol.Name, Summary: ruleSummary(pol.Rules), Members: n}
	}
	p, err := projectPage(c, h.Sys, sc, "Access policies")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PoliciesPage(p, rows, notice))
}

// NewPage shows an empty policy form.
func (h *Policies) NewPage(c echo.Context, sc models.Scope) error {
	return h.form(c, sc, http.StatusOK, h.newVM(sc))
}

// Create saves a new policy, or adds a blank rule row when asked.
func (h *Policies) Create(c echo.Context, sc models.Scope) error {
	return h.save(c, sc, h.newVM(sc), func(in resources.PolicyInput) (string, error) {
		pol, err := sc.Store().CreateAccessPolicy(ctx(c), sc.Actor(c.RealIP()), in)
		return pol.ID, err
	})
}

// EditPage shows a saved policy in the form.
func (h *Policies) EditPage(c echo.Context, sc models.Scope) error {
	pol, err := sc.Store().AccessPolicy(ctx(c), c.Param("policy"))
	if err != nil {
		return err
	}
	vm := h.editVM(sc, pol.ID)
	vm.Form.Name = pol.Name
	for _, r := range pol.Rules {
		vm.Form.Rules = append(vm.Form.Rules, forms.Rule{ResourceType: r.ResourceType, ReadOnly: forms.Checkbox(r.ReadOnly),
			Criteria: r.Criteria, HiddenFields: views.JoinFields(r.HiddenFields)})
	}
	return h.form(c, sc, http.StatusOK, vm)
}

// Update saves an edited policy.
func (h *Policies) Update(c echo.Context, sc models.Scope) error {
	id := c.Param("policy")
	t := sc.Store()
	if _, err := t.AccessPolicy(ctx(c), id); err != nil {
		return err
	}
	return h.save(c, sc, h.editVM(sc, id), func(in resources.PolicyInput) (string, error) {
		_, err := t.UpdateAccessPolicy(ctx(c), sc.Actor(c.RealIP()), id, in)
		return id, err
	})
}

// save takes the form of vm, a new or an edited policy: it shows the form
// again with one more rule row when asked, and otherwise writes the policy,
// which returns its id, and goes back to the list. (The rule rows are read
// after binding, which leaves them out: see forms.Policy.)
func (h *Policies) save(c echo.Context, sc models.Scope, vm views.PolicyFormVM, write func(resources.PolicyInput) (string, error)) error {
	errs, err := bindForm(c, &vm.Form)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	vm.Form.ReadRules(form, resources.MaxPolicyRules+1)
	if errs.Any() {
		vm.Errors = errs
		return h.form(c, sc, http.StatusUnprocessableEntity, vm)
	}
	if vm.Form.Action == forms.AddRule {
		return h.form(c, sc, http.StatusOK, vm)
	}
	id, err := write(policyInput(vm.Form))
	if errs.Merge(kit.FieldErrors(err)); errs.Any() {
		vm.Errors = errs
		return h.form(c, sc, http.StatusUnprocessableEntity, vm)
	}
	if err != nil {
		return err
	}
	return redirect(c, savedURL(paths.Policies.URL(sc.Project().ID), id))
}

// DeletePage asks for confirmation, or says why the policy cannot go.
func (h *Policies) DeletePage(c echo.Context, sc models.Scope) error {
	return h.deletePage(c, sc, http.StatusOK)
}

func (h *Policies) deletePage(c echo.Context, sc models.Scope, status int) error {
	t := sc.Store()
	pol, err := t.AccessPolicy(ctx(c), c.Param("policy"))
	if err != nil {
		return err
	}
	n, err := t.PolicyUsage(ctx(c), pol.ID)
	if err != nil {
		return err
	}
	p, err := projectPage(c, h.Sys, sc, "Delete access policy")
	if err != nil {
		return err
	}
	pr, err := t.Project(ctx(c))
	if err != nil {
		return err
	}
	isDefault := derefString(pr.DefaultPatientAccessPolicy) == pol.ID
	return render(c, status, views.PolicyDeletePage(p, pol.ID, pol.Name, n, isDefault))
}

// Delete removes the policy.
func (h *Policies) Delete(c echo.Context, sc models.Scope) error {
	err := sc.Store().DeleteAccessPolicy(ctx(c), sc.Actor(c.RealIP()), c.Param("policy"))
	if errors.Is(err, models.ErrPolicyInUse) {
		return h.deletePage(c, sc, http.StatusConflict)
	}
	if err != nil {
		return err
	}
	return redirect(c, savedURL(paths.Policies.URL(sc.Project().ID), deletedPolicy))
}

func (h *Policies) newVM(sc models.Scope) views.PolicyFormVM {
	return views.PolicyFormVM{Action: paths.NewPolicy.URL(sc.Project().ID), Title: "New access policy", ResourceTypes: fhir.ResourceTypes()}
}

func (h *Policies) editVM(sc models.Scope, id string) views.PolicyFormVM {
	vm := h.newVM(sc)
	vm.Action = paths.Policy.URL(sc.Project().ID, id)
	vm.Title = "Edit access policy"
	return vm
}

func (h *Policies) form(c echo.Context, sc models.Scope, status int, vm views.PolicyFormVM) error {
	p, err := projectPage(c, h.Sys, sc, vm.Title)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.PolicyFormPage(p, vm), views.PolicyForm(p, vm))
}

// policyInput is the policy the form describes, its rules index-aligned with
// the form's rows (whose errors the store reports as rules.N).
func policyInput(f forms.Policy) resources.PolicyInput {
	in := resources.PolicyInput{Name: f.Name}
	for _, r := range f.Rules {
		in.Rules = append(in.Rules, resources.PolicyRule{ResourceType: r.ResourceType, ReadOnly: r.ReadOnly.On(),
			Criteria: r.Criteria, HiddenFields: strings.Split(r.HiddenFields, ",")})
	}
	return in
}

func ruleSummary(rules resources.PolicyRules) string {
	if len(rules) == 0 {
		return "No access"
	}
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = r.ResourceType
		if r.ReadOnly {
			parts[i] += " (read-only)"
		}
	}
	return strings.Join(parts, ", ")
}
