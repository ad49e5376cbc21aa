// Package views holds Enclave's templ components. Pages take one view-model
// struct; components never query the database.
package views

import (
	"enclave/views/forms"
	"enclave/views/paths"
)

// Page carries what the layout needs on every page.
type Page struct {
	Title string
	CSRF  string
	User  *UserVM
	// Projects lists the signed-in user's projects for the switcher.
	Projects []ProjectLink
	// Current is the project being viewed, if any.
	Current *ProjectLink
	// Invitations are the signed-in user's open invitations (on the pages
	// that list them).
	Invitations []InvitationVM
	// SuperAdmin offers the header's link to the super admin's dashboard.
	SuperAdmin bool
	// Operator marks a super admin's read-only view of a project they are
	// no member of: every page of it says so.
	Operator bool
}

// UserVM is the signed-in user as the layout shows them.
type UserVM struct {
	Name  string
	Email string
	// Unverified is true until the user opens a verification link sent to
	// Email; NoMail says the server has no mail server, so such links go to
	// its log.
	Unverified bool
	NoMail     bool
}

// ProjectLink is one entry of the project switcher or chooser.
type ProjectLink struct {
	ID          string
	Name        string
	Description string
	Admin       bool
	// Operator is a super admin's view of a project they are no member of.
	Operator bool
}

// URL is the project's home page.
func (p ProjectLink) URL() string { return paths.Project.URL(p.ID) }

// Role names the user's role in the project.
func (p ProjectLink) Role() string {
	if p.Operator {
		return "Operator (read-only)"
	}
	if p.Admin {
		return "Admin"
	}
	return "Member"
}

// input is the view model of a required input showing value, as the form
// was submitted, with the message errs hold for it. A password input is
// always empty: a password is never sent back.
func input(name, label, typ, autocomplete, value string, errs forms.Errors) FieldVM {
	if typ == "password" {
		value = ""
	}
	return FieldVM{Name: name, Label: label, Type: typ, Value: value, Err: errs.Of(name), Autocomplete: autocomplete, Required: true}
}

// ProjectHomeVM is the project home page.
type ProjectHomeVM struct {
	Project     ProjectLink
	MemberCount int64
	Owner       string
	StrictMode  bool
	CreatedAt   string
	// InviteStep and ResourceStep are next steps not done yet: inviting a
	// member (for admins) and creating a first resource.
	InviteStep   bool
	ResourceStep bool
	// FHIRBase is the API's absolute base URL, and ProjectHeader the header
	// line that names this project to it.
	FHIRBase      string
	ProjectHeader string
	Notice        string
}

// ErrorVM is an error page.
type ErrorVM struct {
	Status  int
	Title   string
	Message string
}
