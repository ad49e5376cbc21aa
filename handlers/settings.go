package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// Settings serves a project's settings editor.
type Settings struct {
	Sys Directory
}

// Page shows the editor with the saved settings.
func (h *Settings) Page(c echo.Context, sc models.Scope) error {
	p, vm, err := h.load(c, sc)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SettingsPage(p, vm))
}

// load builds the editor's view model from the saved project.
func (h *Settings) load(c echo.Context, sc models.Scope) (views.Page, views.SettingsVM, error) {
	pr, err := sc.Store().Project(ctx(c))
	if err != nil {
		return views.Page{}, views.SettingsVM{}, err
	}
	p, err := projectPage(c, h.Sys, sc, "Settings")
	if err != nil {
		return p, views.SettingsVM{}, err
	}
	vm, err := h.viewModel(c, sc, pr)
	return p, vm, err
}

func (h *Settings) viewModel(c echo.Context, sc models.Scope, pr models.Project) (views.SettingsVM, error) {
	u, _ := CurrentUser(c)
	operator, err := superAdmin(c, h.Sys, u.ID)
	if err != nil {
		return views.SettingsVM{}, err
	}
	policies, err := sc.Store().AccessPolicies(ctx(c))
	if err != nil {
		return views.SettingsVM{}, err
	}
	vm := views.SettingsVM{
		Form:          views.Form{Values: map[string]string{"name": pr.Name, "description": pr.Description}},
		Version:       pr.Version,
		StrictMode:    pr.StrictMode,
		CheckRefs:     pr.CheckReferencesOnWrite,
		DefaultPolicy: derefString(pr.DefaultPatientAccessPolicy),
		Features:      pr.Features,
		AllFeatures:   models.ProjectFeatures,
		SuperAdmin:    pr.SuperAdmin,
		CanOperate:    operator,
	}
	for _, pol := range policies {
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	return vm, nil
}

// Save applies the form. Validation errors and a concurrent save come back
// in the form with the user's input kept; features or superAdmin from
// anyone but a super admin are refused with 403.
func (h *Settings) Save(c echo.Context, sc models.Scope) error {
	u := parseSettings(c)
	user, _ := CurrentUser(c)
	operator, err := superAdmin(c, h.Sys, user.ID)
	if err != nil {
		return err
	}
	saved, changes, err := sc.Store().UpdateSettings(ctx(c), sc.Actor(c.RealIP()), u, operator)
	switch {
	case errors.Is(err, models.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "Only a super admin can change a project's features or super-admin flag.")
	case errors.Is(err, models.ErrStale), models.FieldErrors(err) != nil:
		return h.rejected(c, sc, u, err)
	case err != nil:
		return err
	}
	p, err := projectPage(c, h.Sys, sc, "Settings")
	if err != nil {
		return err
	}
	// The scope holds the project as it was before the save.
	renamed := saved.Name != p.Current.Name
	p.Current.Name, p.Current.Description = saved.Name, saved.Description
	for i := range p.Projects {
		if p.Projects[i].ID == saved.ID {
			p.Projects[i].Name, p.Projects[i].Description = saved.Name, saved.Description
		}
	}
	vm, err := h.viewModel(c, sc, saved)
	if err != nil {
		return err
	}
	vm.Notice = changeNotice(changes)
	return renderForm(c, http.StatusOK, views.SettingsPage(p, vm), views.SettingsSaved(p, vm, renamed))
}

// rejected re-renders the form with what the user submitted and why it was
// not saved.
func (h *Settings) rejected(c echo.Context, sc models.Scope, u models.SettingsUpdate, err error) error {
	p, vm, lerr := h.load(c, sc)
	if lerr != nil {
		return lerr
	}
	status := http.StatusUnprocessableEntity
	vm.Form = formOf(c, err, "name", "description")
	vm.Version = u.Version
	vm.StrictMode = u.StrictMode
	vm.CheckRefs = u.CheckReferencesOnWrite
	vm.DefaultPolicy = derefString(u.DefaultPatientAccessPolicy)
	if u.Features != nil {
		vm.Features = *u.Features
	}
	if u.SuperAdmin != nil {
		vm.SuperAdmin = *u.SuperAdmin
	}
	vm.AskStrictOff = vm.Form.Err("strictMode") != ""
	if errors.Is(err, models.ErrStale) {
		status = http.StatusConflict
		vm.Form.Error = "Someone else saved these settings while you were editing, so yours were not saved. Reload the page to see the current settings, then make your change again."
	}
	return renderForm(c, status, views.SettingsPage(p, vm), views.SettingsForm(p, vm))
}

// parseSettings reads the form. Operator fields are passed on only when the
// form carries them, so that the store can refuse a forged attempt.
func parseSettings(c echo.Context) models.SettingsUpdate {
	u := models.SettingsUpdate{
		Name:                   c.FormValue("name"),
		Description:            c.FormValue("description"),
		StrictMode:             c.FormValue("strictMode") == "on",
		ConfirmStrictOff:       c.FormValue("confirmStrictOff") == "on",
		CheckReferencesOnWrite: c.FormValue("checkReferencesOnWrite") == "on",
	}
	u.Version, _ = strconv.Atoi(c.FormValue("version"))
	if id := c.FormValue("defaultPatientAccessPolicy"); id != "" {
		u.DefaultPatientAccessPolicy = &id
	}
	form, _ := c.FormParams()
	if _, ok := form["features"]; ok || c.FormValue("operatorFields") == "on" {
		fs := form["features"]
		u.Features = &fs
	}
	if _, ok := form["superAdmin"]; ok || c.FormValue("operatorFields") == "on" {
		on := c.FormValue("superAdmin") == "on"
		u.SuperAdmin = &on
		u.ConfirmName = c.FormValue("confirmSuperAdmin")
	}
	return u
}

var settingLabels = map[string]string{
	"name": "name", "description": "description", "strictMode": "strict mode",
	"checkReferencesOnWrite": "check references on write", "defaultPatientAccessPolicy": "default patient access policy",
	"features": "features", "superAdmin": "super-admin flag",
}

func changeNotice(changes []models.SettingsChange) string {
	if len(changes) == 0 {
		return "Nothing to save: the settings are unchanged."
	}
	names := make([]string, len(changes))
	for i, ch := range changes {
		names[i] = settingLabels[ch.Field]
	}
	return "Saved. Changed: " + strings.Join(names, ", ") + "."
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
