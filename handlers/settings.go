package handlers

import (
	"errors"
	"net/http"
	"strings"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/views"
	"enclave/views/forms"

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

func (h *Settings) viewModel(c echo.Context, sc models.Scope, pr projects.Project) (views.SettingsVM, error) {
	u, _ := CurrentUser(c)
	operator, err := superAdmin(c, h.Sys, u.ID)
	if err != nil {
		return views.SettingsVM{}, err
	}
	policies, err := sc.Store().AccessPolicies(ctx(c))
	if err != nil {
		return views.SettingsVM{}, err
	}
	vm := views.SettingsVM{Form: settingsForm(pr), AllFeatures: projects.ProjectFeatures, CanOperate: operator}
	for _, pol := range policies {
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	return vm, nil
}

// settingsForm is the editor's form showing the saved project.
func settingsForm(pr projects.Project) forms.Settings {
	superAdmin := forms.Checkbox(pr.SuperAdmin)
	return forms.Settings{Name: pr.Name, Description: pr.Description, Version: forms.IntOf(pr.Version),
		StrictMode: forms.Checkbox(pr.StrictMode), CheckReferencesOnWrite: forms.Checkbox(pr.CheckReferencesOnWrite),
		DefaultPatientAccessPolicy: derefString(pr.DefaultPatientAccessPolicy), Features: pr.Features, SuperAdmin: &superAdmin}
}

// Save applies the form. Validation errors and a concurrent save come back
// in the form as the user sent it; features or superAdmin from anyone but a
// super admin are refused with 403.
func (h *Settings) Save(c echo.Context, sc models.Scope) error {
	var f forms.Settings
	var saved projects.Project
	var changes []projects.SettingsChange
	errs, err := submit(c, &f, func() error {
		user, _ := CurrentUser(c)
		operator, err := superAdmin(c, h.Sys, user.ID)
		if err != nil {
			return err
		}
		saved, changes, err = sc.Store().UpdateSettings(ctx(c), sc.Actor(c.RealIP()), settingsUpdate(f), operator)
		return err
	})
	switch {
	case errors.Is(err, kit.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "Only a super admin can change a project's features or super-admin flag.")
	case errors.Is(err, kit.ErrStale):
		errs.Form = "Someone else saved these settings while you were editing, so yours were not saved. Reload the page to see the current settings, then make your change again."
		return h.rejected(c, sc, http.StatusConflict, f, errs)
	case err != nil:
		return err
	case errs.Any():
		return h.rejected(c, sc, http.StatusUnprocessableEntity, f, errs)
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

// rejected shows the form again as the user sent it, with why it was not
// saved.
func (h *Settings) rejected(c echo.Context, sc models.Scope, status int, f forms.Settings, errs forms.Errors) error {
	p, vm, err := h.load(c, sc)
	if err != nil {
		return err
	}
	// A browser does not send disabled inputs: a form without the
	// operator's fields shows them as saved.
	if !f.OperatorFields.On() {
		if f.Features == nil {
			f.Features = vm.Form.Features
		}
		if f.SuperAdmin == nil {
			f.SuperAdmin = vm.Form.SuperAdmin
		}
	}
	vm.Form, vm.Errors = f, errs
	vm.AskStrictOff = errs.Of("strictMode") != ""
	return renderForm(c, status, views.SettingsPage(p, vm), views.SettingsForm(p, vm))
}

// settingsUpdate is the change the form asks for. The operator's fields are
// passed on only when the form carries them, so that the store can refuse
// a forged attempt.
func settingsUpdate(f forms.Settings) projects.SettingsUpdate {
	u := projects.SettingsUpdate{Name: f.Name, Description: f.Description, Version: f.Version.N,
		StrictMode: f.StrictMode.On(), ConfirmStrictOff: f.ConfirmStrictOff.On(), CheckReferencesOnWrite: f.CheckReferencesOnWrite.On()}
	if id := f.DefaultPatientAccessPolicy; id != "" {
		u.DefaultPatientAccessPolicy = &id
	}
	if f.Features != nil || f.OperatorFields.On() {
		u.Features = &f.Features
	}
	if f.SuperAdmin != nil || f.OperatorFields.On() {
		on := f.SuperAdminOn()
		u.SuperAdmin, u.ConfirmName = &on, f.ConfirmSuperAdmin
	}
	return u
}

var settingLabels = map[string]string{
	"name": "name", "description": "description", "strictMode": "strict mode",
	"checkReferencesOnWrite": "check references on write", "defaultPatientAccessPolicy": "default patient access policy",
	"features": "features", "superAdmin": "super-admin flag",
}

func changeNotice(changes []projects.SettingsChange) string {
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
