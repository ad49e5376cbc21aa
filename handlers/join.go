package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/projects"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Registrar is what open patient registration needs: the accounts (for
// the throttle and the verification link), the record of submitted forms,
// and the registration itself.
type Registrar interface {
	Accounts
	OpenRegistration(ctx context.Context, projectID string) (projects.Project, error)
	JoinAsPatient(ctx context.Context, projectID string, signedIn *accounts.User, in models.PatientSignUp, ip string) (accounts.User, error)
}

// Join serves a project's open patient registration, /projects/{id}/join:
// a public page, found only when the project has a
// defaultPatientAccessPolicy (otherwise the 404 of an unknown project).
type Join struct {
	Sys      Registrar
	Sessions Sessions
	Postman  Postman
	Log      *slog.Logger
}

// Page shows the registration form: the whole account to a visitor, only
// the birth date to a signed-in user.
func (h *Join) Page(c echo.Context) error {
	p, err := h.Sys.OpenRegistration(ctx(c), c.Param("project"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, p, forms.Join{Token: models.NewFormToken()}, forms.Errors{})
}

// Submit registers the patient, signs a new account in, and lands on the
// project. The form's one-time token makes a second submission (a double
// click) register once and land there too; a replay that finds the visitor
// not signed in (its first copy's cookie never arrived) is sent to sign in.
func (h *Join) Submit(c echo.Context) error {
	p, err := h.Sys.OpenRegistration(ctx(c), c.Param("project"))
	if err != nil {
		return err
	}
	if err := registrationAttempt(c, h.Sys); err != nil {
		return err
	}
	current, signedIn := CurrentUser(c)
	var f forms.Join
	var u accounts.User
	var replayed bool
	errs, err := submit(c, &f, func() error {
		in := models.PatientSignUp{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Password: f.Password, BirthDate: f.BirthDate}
		var who *accounts.User
		if signedIn {
			who = &current
		}
		// Keyed on the form alone, not on who sends it: the copy of a
		// double click that arrives after the first has signed the
		// visitor in must find the first's result, not join again.
		id, again, err := h.Sys.SubmitOnce(ctx(c), "", "join:"+p.ID, f.Token, func() (string, error) {
			var err error
			u, err = h.Sys.JoinAsPatient(ctx(c), p.ID, who, in, c.RealIP())
			return u.ID, err
		})
		u.ID, replayed = id, again
		return err
	})
	status := http.StatusUnprocessableEntity
	if isPendingSubmission(err) {
		errs.Form, status, err = pendingSubmission, http.StatusConflict, nil
	}
	if err != nil {
		return err
	}
	if msg := errs.Of("form"); msg != "" {
		// About the whole form: the user must verify first, or is a member.
		errs.Form = msg
		delete(errs.Fields, "form")
	}
	if errs.Any() {
		f.Password, f.Token = "", resentToken(f.Token)
		return h.render(c, status, p, f, errs)
	}
	home := paths.Project.URL(p.ID)
	switch {
	case signedIn:
	case replayed:
		return redirect(c, paths.SignIn.URL()+"?next="+home)
	default:
		h.Log.InfoContext(ctx(c), "patient registered", "user", u.ID, "project", p.ID)
		if _, err := sendVerification(c, h.Sys, h.Postman, u, u.Email); err != nil {
			return err
		}
		if err := h.Sessions.SignIn(c, u.ID); err != nil {
			return err
		}
	}
	return redirect(c, home)
}

// render shows the page, or the form alone to htmx.
func (h *Join) render(c echo.Context, status int, p projects.Project, f forms.Join, errs forms.Errors) error {
	page, err := pageFor(c, h.Sys, "Join "+p.Name)
	if err != nil {
		return err
	}
	vm := views.JoinVM{ProjectID: p.ID, ProjectName: p.Name, Form: f, Errors: errs}
	if u, ok := CurrentUser(c); ok {
		vm.Email = u.Email
	}
	return renderForm(c, status, views.JoinPage(page, vm), views.JoinForm(page.CSRF, vm))
}
