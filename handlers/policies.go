package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"enclave/models"
	"enclave/models/fhir"
	"enclave/views"
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
	return h.form(c, sc, http.StatusOK, h.newVM(c, sc, views.Form{}, nil))
}

// Create saves a new policy, or adds a blank rule row when asked.
func (h *Policies) Create(c echo.Context, sc models.Scope) error {
	in, rows := parsePolicy(c)
	if c.FormValue("action") == "add-rule" {
		return h.form(c, sc, http.StatusOK, h.newVM(c, sc, formOf(c, nil, "name"), append(rows, views.RuleVM{})))
	}
	pol, err := sc.Store().CreateAccessPolicy(ctx(c), sc.Actor(c.RealIP()), in)
	if models.FieldErrors(err) != nil {
		return h.form(c, sc, http.StatusUnprocessableEntity, h.newVM(c, sc, formOf(c, err, "name"), withRuleErrors(rows, err)))
	}
	if err != nil {
		return err
	}
	return redirect(c, savedURL(paths.Policies.URL(sc.Project().ID), pol.ID))
}

// EditPage shows a saved policy in the form.
func (h *Policies) EditPage(c echo.Context, sc models.Scope) error {
	pol, err := sc.Store().AccessPolicy(ctx(c), c.Param("policy"))
	if err != nil {
		return err
	}
	rows := make([]views.RuleVM, 0, len(pol.Rules)+1)
	for _, r := range pol.Rules {
		rows = append(rows, views.RuleVM{ResourceType: r.ResourceType, ReadOnly: r.ReadOnly, Criteria: r.Criteria,
			HiddenFields: views.JoinFields(r.HiddenFields)})
	}
	f := views.Form{Values: map[string]string{"name": pol.Name}}
	return h.form(c, sc, http.StatusOK, h.editVM(c, sc, pol.ID, f, append(rows, views.RuleVM{})))
}

// Update saves an edited policy.
func (h *Policies) Update(c echo.Context, sc models.Scope) error {
	id := c.Param("policy")
	t := sc.Store()
	if _, err := t.AccessPolicy(ctx(c), id); err != nil {
		return err
	}
	in, rows := parsePolicy(c)
	if c.FormValue("action") == "add-rule" {
		return h.form(c, sc, http.StatusOK, h.editVM(c, sc, id, formOf(c, nil, "name"), append(rows, views.RuleVM{})))
	}
	_, err := t.UpdateAccessPolicy(ctx(c), sc.Actor(c.RealIP()), id, in)
	if models.FieldErrors(err) != nil {
		return h.form(c, sc, http.StatusUnprocessableEntity, h.editVM(c, sc, id, formOf(c, err, "name"), withRuleErrors(rows, err)))
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

func (h *Policies) newVM(c echo.Context, sc models.Scope, f views.Form, rows []views.RuleVM) views.PolicyFormVM {
	if len(rows) == 0 {
		rows = []views.RuleVM{{}}
	}
	return views.PolicyFormVM{Action: paths.NewPolicy.URL(sc.Project().ID),
		Title: "New access policy", Form: f, Rules: rows, ResourceTypes: fhir.ResourceTypes()}
}

func (h *Policies) editVM(c echo.Context, sc models.Scope, id string, f views.Form, rows []views.RuleVM) views.PolicyFormVM {
	vm := h.newVM(c, sc, f, rows)
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

// parsePolicy reads the rule rows, dropping blank ones. It returns the input
// for the store and the rows to show again, index-aligned with it.
func parsePolicy(c echo.Context) (models.PolicyInput, []views.RuleVM) {
	in := models.PolicyInput{Name: c.FormValue("name")}
	var rows []views.RuleVM
	n, _ := strconv.Atoi(c.FormValue("rows"))
	n = min(max(n, 0), models.MaxPolicyRules+1)
	for i := range n {
		field := func(name string) string { return c.FormValue(fmt.Sprintf("rules.%d.%s", i, name)) }
		row := views.RuleVM{ResourceType: strings.TrimSpace(field("resourceType")), ReadOnly: field("readonly") == "on",
			Criteria: strings.TrimSpace(field("criteria")), HiddenFields: strings.TrimSpace(field("hiddenFields"))}
		if row.ResourceType == "" && row.Criteria == "" && row.HiddenFields == "" && !row.ReadOnly {
			continue
		}
		rows = append(rows, row)
		in.Rules = append(in.Rules, models.PolicyRule{ResourceType: row.ResourceType, ReadOnly: row.ReadOnly,
			Criteria: row.Criteria, HiddenFields: strings.Split(row.HiddenFields, ",")})
	}
	return in, rows
}

// withRuleErrors puts the store's per-rule messages on their rows and adds a
// blank row for the next rule.
func withRuleErrors(rows []views.RuleVM, err error) []views.RuleVM {
	fields := models.FieldErrors(err)
	for i := range rows {
		rows[i].Err = fields[fmt.Sprintf("rules.%d", i)]
	}
	return append(rows, views.RuleVM{})
}

func ruleSummary(rules models.PolicyRules) string {
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
