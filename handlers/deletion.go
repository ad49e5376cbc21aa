package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/projects"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// DeletedProjects is what deleting a project needs server-wide: the
// dashboard's list of deleted projects and their restore.
type DeletedProjects interface {
	Directory
	DeletedProjects(ctx context.Context) ([]models.DeletedProject, error)
	RestoreProject(ctx context.Context, a audit.Actor, projectID, confirm string) (projects.Project, error)
}

// Deletion serves a project admin's deletion of their project (soft: the
// project disappears for every member and is expunged after Retention) and
// the super admin's list of deleted projects, where they restore one.
type Deletion struct {
	Sys DeletedProjects
	// Retention is how long a deleted project waits for its expunge.
	Retention time.Duration
}

// Page asks the project's admin to type the project's name.
func (h *Deletion) Page(c echo.Context, sc models.Scope) error {
	return h.confirm(c, sc, http.StatusOK, forms.ConfirmProject{}, forms.Errors{})
}

// Delete deletes the project once its name is typed, and sends the admin
// to their project list, where it is no more. A wrong name is an inline
// error (422); the last super-admin project is refused (409); htmx gets
// the form back in place.
func (h *Deletion) Delete(c echo.Context, sc models.Scope) error {
	var f forms.ConfirmProject
	errs, err := submit(c, &f, func() error {
		_, err := sc.Store().DeleteProject(ctx(c), sc.Actor(c.RealIP()), f.Confirm)
		return err
	})
	switch {
	case errors.Is(err, models.ErrLastSuperAdminProject):
		errs.Form = "This is the server's only super-admin project: deleting it would leave the server without operators. " +
			"Make another project a super-admin one first (enclave super-admin grant)."
		return h.confirm(c, sc, http.StatusConflict, f, errs)
	case err != nil:
		return err
	case errs.Any():
		return h.confirm(c, sc, http.StatusUnprocessableEntity, f, errs)
	}
	return redirect(c, paths.Projects.URL())
}

// confirm renders the confirmation page with the form as sent.
func (h *Deletion) confirm(c echo.Context, sc models.Scope, status int, f forms.ConfirmProject, errs forms.Errors) error {
	p, err := projectPage(c, h.Sys, sc, "Delete project")
	if err != nil {
		return err
	}
	vm := views.ProjectDeleteVM{Form: f, Errors: errs, Retention: retentionText(h.Retention)}
	return renderForm(c, status, views.ProjectDeletePage(p, vm), views.ProjectDeleteForm(p, vm))
}

// List shows the deleted projects waiting for their expunge.
func (h *Deletion) List(c echo.Context) error {
	return h.list(c, http.StatusOK, views.AdminDeletedVM{})
}

// Restore brings a deleted project back for all its members, once its name
// is typed; a wrong name is an inline error on its row (422).
func (h *Deletion) Restore(c echo.Context) error {
	var f forms.ConfirmProject
	var restored projects.Project
	errs, err := submit(c, &f, func() (err error) {
		restored, err = h.Sys.RestoreProject(ctx(c), Actor(c), c.Param("project"), f.Confirm)
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.list(c, http.StatusUnprocessableEntity, views.AdminDeletedVM{Failed: c.Param("project"), Form: f, Errors: errs})
	}
	return h.list(c, http.StatusOK, views.AdminDeletedVM{
		Notice: "Restored " + restored.Name + ": its members see it again."})
}

func (h *Deletion) list(c echo.Context, status int, vm views.AdminDeletedVM) error {
	list, err := h.Sys.DeletedProjects(ctx(c))
	if err != nil {
		return err
	}
	vm.Retention = retentionText(h.Retention)
	for _, d := range list {
		at := d.Project.DeletedAt.Time.UTC()
		row := views.AdminDeletedRowVM{ID: d.Project.ID, Name: d.Project.Name, DeletedBy: d.DeletedByEmail,
			DeletedAt: at.Format("2006-01-02 15:04"), ExpungeDue: at.Add(h.Retention).Format("2006-01-02 15:04")}
		if row.DeletedBy == "" {
			row.DeletedBy = "(account gone)"
		}
		vm.Rows = append(vm.Rows, row)
	}
	p, err := pageFor(c, h.Sys, "Deleted projects")
	if err != nil {
		return err
	}
	return render(c, status, views.AdminDeletedPage(p, vm))
}

// retentionText says a retention in days when it is whole days, and as a
// duration otherwise.
func retentionText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return strconv.Itoa(int(d/day)) + " days"
	}
	return d.String()
}
