package handlers

import (
	"net/http"

	"enclave/models"
	"enclave/models/projects"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Projects serves project creation, the chooser and project home pages.
type Projects struct {
	Sys Accounts
}

// Choose lists the user's projects.
func (h *Projects) Choose(c echo.Context) error {
	p, err := pageFor(c, h.Sys, "Choose a project")
	if err != nil {
		return err
	}
	if p.Invitations, err = myInvitations(c, h.Sys); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ChooseProjectPage(p))
}

// NewPage shows the project creation form.
func (h *Projects) NewPage(c echo.Context) error {
	p, err := pageFor(c, h.Sys, newProjectTitle)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NewProjectPage(p, forms.Project{Token: models.NewFormToken()}, forms.Errors{}))
}

// Create makes a project with the user as its admin.
func (h *Projects) Create(c echo.Context) error {
	return createProject(c, h.Sys, newProjectTitle, func(p views.Page, f forms.Project, errs forms.Errors) (templ.Component, templ.Component) {
		return views.NewProjectPage(p, f, errs), views.ProjectForm(p.CSRF, paths.NewProject.URL(), "Create project", f, errs)
	})
}

// newProjectTitle is the title of /projects/new.
const newProjectTitle = "New project"

// createProject is shared by registration step 2 and /projects/new, which
// differ only in the page around the form and its title. The form's
// one-time token makes a second submission of it (a double click) land on
// the project the first one made.
func createProject(c echo.Context, sys ProjectMaker, title string, pages func(views.Page, forms.Project, forms.Errors) (page, fragment templ.Component)) error {
	var f forms.Project
	var id string
	u, _ := CurrentUser(c)
	errs, err := submit(c, &f, func() (err error) {
		id, err = submitOnce(c, sys, "project", f.Token, func() (string, error) {
			pr, err := sys.CreateProject(ctx(c), u.ID, projects.NewProject{Name: f.Name, Description: f.Description})
			return pr.ID, err
		})
		return err
	})
	status := http.StatusUnprocessableEntity
	if isPendingSubmission(err) {
		errs.Form, status, err = pendingSubmission, http.StatusConflict, nil
	}
	if err != nil {
		return err
	}
	if errs.Any() {
		p, err := pageFor(c, sys, title)
		if err != nil {
			return err
		}
		f.Token = resentToken(f.Token)
		page, fragment := pages(p, f, errs)
		return renderForm(c, status, page, fragment)
	}
	return redirect(c, paths.Project.URL(id))
}

// Home is a project's overview page.
func (h *Projects) Home(c echo.Context, sc models.Scope) error {
	a := sc.Access()
	n, err := sc.Store().MemberCount(ctx(c))
	if err != nil {
		return err
	}
	p, err := projectPage(c, h.Sys, sc, a.Project.Name)
	if err != nil {
		return err
	}
	has, err := sc.Store().HasResources(ctx(c))
	if err != nil {
		return err
	}
	vm := views.ProjectHomeVM{Project: projectLink(a), MemberCount: n, StrictMode: a.Project.StrictMode,
		CreatedAt: a.Project.CreatedAt.Format("2 Jan 2006"),
		// Next steps, each shown until it is done.
		InviteStep: sc.Admin() && n <= 1, ResourceStep: !has,
		FHIRBase: baseURL(c), ProjectHeader: projectHeader + ": " + a.Project.ID}
	if c.QueryParam(savedParam) == selfDemoted && !sc.Admin() {
		vm.Notice = "Saved: you are now a member of this project, no longer one of its admins."
	}
	return render(c, http.StatusOK, views.ProjectHomePage(p, vm))
}

// projectHeader names the project an API request is for (web.ProjectHeader).
const projectHeader = "X-Enclave-Project"
