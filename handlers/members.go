package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// Mailer sends a plain-text email. The web layer provides one when a mail
// server is configured.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Members serves a project's member list, invitations and member edits.
type Members struct {
	Sys models.System
	// Mailer is nil when no mail server is configured: links are then only
	// shown to the admin.
	Mailer Mailer
	Log    *slog.Logger
}

var inviteFields = []string{"email", "firstName", "lastName", "admin", "accessPolicy"}

// List shows the members and the invite form.
func (h *Members) List(c echo.Context) error {
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	return h.panel(c, http.StatusOK, vm)
}

// Invite adds a member or invites a new person. The invite link is in this
// answer only: it is not stored and cannot be shown again.
func (h *Members) Invite(c echo.Context) error {
	in := models.Invitation{Email: c.FormValue("email"), FirstName: c.FormValue("firstName"),
		LastName: c.FormValue("lastName"), Admin: c.FormValue("admin") == "on", AccessPolicyID: optional(c.FormValue("accessPolicy"))}
	got, err := TenantOf(c).Invite(ctx(c), Actor(c), in)
	if models.FieldErrors(err) != nil {
		vm, lerr := h.listVM(c, formOf(c, err, inviteFields...))
		if lerr != nil {
			return lerr
		}
		return h.panel(c, http.StatusUnprocessableEntity, vm)
	}
	if err != nil {
		return err
	}
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	u := got.Member.User
	switch {
	case got.Token == "":
		vm.Notice = fmt.Sprintf("%s (%s) is now a member of the project.", u.Name(), u.Email)
		h.mail(c, u.Email, "You were added to "+AccessOf(c).Project.Name, addedMail(c, h.base(c), u))
	default:
		link := &views.InviteLinkVM{URL: h.base(c) + "/invite/" + got.Token, Email: u.Email,
			Expires: got.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST")}
		vm.Notice = "Invited " + u.Email + "."
		if got.Reissued {
			vm.Notice = "New invite link for " + u.Email + ". The previous link no longer works."
		}
		if h.Mailer != nil {
			link.Mailed = h.mail(c, u.Email, "You are invited to "+AccessOf(c).Project.Name, inviteMail(c, link))
			link.MailFailed = !link.Mailed
		}
		vm.Link = link
	}
	return h.panel(c, http.StatusOK, vm)
}

// mail sends a message if a mailer is configured and reports whether it was
// sent. A failure is logged (without the message, which may hold a link) and
// never fails the request: the admin still has the link on screen.
func (h *Members) mail(c echo.Context, to, subject, body string) bool {
	if h.Mailer == nil {
		return false
	}
	if err := h.Mailer.Send(ctx(c), to, subject, body); err != nil {
		h.Log.Warn("invite email not sent", "project", AccessOf(c).Project.ID, "err", err)
		return false
	}
	return true
}

func inviteMail(c echo.Context, link *views.InviteLinkVM) string {
	inviter, _ := CurrentUser(c)
	return fmt.Sprintf("Hello,\n\n%s invited you to the project %q on Enclave.\n\n"+
		"Open this link to choose your password and join:\n\n%s\n\n"+
		"The link works once and expires on %s. If you did not expect this invitation, ignore this email.\n",
		inviter.Name(), AccessOf(c).Project.Name, link.URL, link.Expires)
}

func addedMail(c echo.Context, base string, u models.User) string {
	inviter, _ := CurrentUser(c)
	return fmt.Sprintf("Hello %s,\n\n%s added you to the project %q on Enclave.\n\nSign in to open it:\n\n%s\n",
		u.FirstName, inviter.Name(), AccessOf(c).Project.Name, base+"/projects/"+AccessOf(c).Project.ID)
}

// base is the console's public address for links.
func (h *Members) base(c echo.Context) string { return Origin(c) }

// EditPage shows one member's role form.
func (h *Members) EditPage(c echo.Context) error {
	m, err := TenantOf(c).Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	vm := views.MemberEditVM{Member: memberRow(c, m, nil), Admin: m.Membership.Admin, Active: m.Membership.Active,
		Policy: derefString(m.Membership.AccessPolicyID)}
	return h.editForm(c, http.StatusOK, vm)
}

// Update saves a member's admin flag, active flag and access policy.
func (h *Members) Update(c echo.Context) error {
	t := TenantOf(c)
	m, err := t.Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	u := models.MemberUpdate{Admin: c.FormValue("admin") == "on", Active: c.FormValue("active") == "on",
		AccessPolicyID: optional(c.FormValue("accessPolicy"))}
	_, err = t.UpdateMember(ctx(c), Actor(c), m.Membership.ID, u)
	if errors.Is(err, models.ErrLastAdmin) || models.FieldErrors(err) != nil {
		vm := views.MemberEditVM{Member: memberRow(c, m, nil), Admin: u.Admin, Active: u.Active,
			Policy: derefString(u.AccessPolicyID), Form: views.Form{Errors: models.FieldErrors(err)}}
		if errors.Is(err, models.ErrLastAdmin) {
			vm.Form.Error = lastAdminMessage(m)
		}
		return h.editForm(c, http.StatusUnprocessableEntity, vm)
	}
	if err != nil {
		return err
	}
	if self(c, m) {
		if !u.Active {
			return redirect(c, "/projects")
		}
		if !u.Admin {
			return redirect(c, projectURL(c, ""))
		}
	}
	return redirect(c, projectURL(c, "/members"))
}

// RemovePage asks for confirmation (the no-JavaScript path; htmx asks with
// hx-confirm and posts directly).
func (h *Members) RemovePage(c echo.Context) error {
	m, err := TenantOf(c).Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	return h.removePage(c, http.StatusOK, views.MemberRemoveVM{Member: memberRow(c, m, nil)})
}

// Remove deletes a membership.
func (h *Members) Remove(c echo.Context) error {
	t := TenantOf(c)
	m, err := t.RemoveMember(ctx(c), Actor(c), c.Param("member"))
	if errors.Is(err, models.ErrLastAdmin) {
		m, merr := t.Member(ctx(c), c.Param("member"))
		if merr != nil {
			return merr
		}
		if IsHTMX(c) {
			vm, lerr := h.listVM(c, views.Form{})
			if lerr != nil {
				return lerr
			}
			vm.Error = lastAdminMessage(m)
			return render(c, http.StatusUnprocessableEntity, views.MembersPanel(vm))
		}
		return h.removePage(c, http.StatusUnprocessableEntity, views.MemberRemoveVM{Member: memberRow(c, m, nil), Error: lastAdminMessage(m)})
	}
	if err != nil {
		return err
	}
	if self(c, m) {
		return redirect(c, "/projects")
	}
	if !IsHTMX(c) {
		return redirect(c, projectURL(c, "/members"))
	}
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	vm.Notice = fmt.Sprintf("Removed %s (%s) from the project.", m.User.Name(), m.User.Email)
	return render(c, http.StatusOK, views.MembersPanel(vm))
}

func lastAdminMessage(m models.Member) string {
	return m.User.Name() + " is the last active admin of this project. Make another member an admin first."
}

func self(c echo.Context, m models.Member) bool {
	u, _ := CurrentUser(c)
	return u.ID == m.User.ID
}

// listVM builds the members page with the invite form in state f.
func (h *Members) listVM(c echo.Context, f views.Form) (views.MembersVM, error) {
	t := TenantOf(c)
	p, err := pageFor(c, h.Sys, "Members")
	if err != nil {
		return views.MembersVM{}, err
	}
	members, err := t.Members(ctx(c))
	if err != nil {
		return views.MembersVM{}, err
	}
	policies, err := t.AccessPolicies(ctx(c))
	if err != nil {
		return views.MembersVM{}, err
	}
	names := make(map[string]string, len(policies))
	vm := views.MembersVM{Page: p, Form: f}
	for _, pol := range policies {
		names[pol.ID] = pol.Name
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	for _, m := range members {
		vm.Rows = append(vm.Rows, memberRow(c, m, names))
	}
	return vm, nil
}

// memberRow describes a member; names maps policy ids to names (nil leaves
// the policy column empty).
func memberRow(c echo.Context, m models.Member, names map[string]string) views.MemberRowVM {
	r := views.MemberRowVM{ID: m.Membership.ID, Name: m.User.Name(), Email: m.User.Email, Admin: m.Membership.Admin,
		Active: m.Membership.Active, Pending: m.Pending(), Self: self(c, m),
		Joined: m.Membership.CreatedAt.UTC().Format("2006-01-02")}
	if id := m.Membership.AccessPolicyID; id != nil {
		r.Policy = names[*id]
	}
	if m.Inviter.ID != "" {
		r.InvitedBy = m.Inviter.Name()
	}
	if id := m.Membership.ProfileID; id != nil {
		r.Profile = m.Membership.ProfileType + "/" + *id
		r.ProfileURL = projectURL(c, "/resources/"+r.Profile)
	}
	return r
}

func (h *Members) panel(c echo.Context, status int, vm views.MembersVM) error {
	return renderForm(c, status, views.MembersPage(vm), views.MembersPanel(vm))
}

func (h *Members) editForm(c echo.Context, status int, vm views.MemberEditVM) error {
	p, err := pageFor(c, h.Sys, "Edit member")
	if err != nil {
		return err
	}
	policies, err := TenantOf(c).AccessPolicies(ctx(c))
	if err != nil {
		return err
	}
	vm.Page = p
	for _, pol := range policies {
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	return renderForm(c, status, views.MemberEditPage(vm), views.MemberForm(vm))
}

func (h *Members) removePage(c echo.Context, status int, vm views.MemberRemoveVM) error {
	p, err := pageFor(c, h.Sys, "Remove member")
	if err != nil {
		return err
	}
	vm.Page = p
	return render(c, status, views.MemberRemovePage(vm))
}

// optional is nil for an empty form value.
func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

// Invites serves the public page where an invited person accepts: they
// choose a password and land in the project.
type Invites struct {
	Sys      models.System
	Sessions Sessions
	Log      *slog.Logger
}

// Page shows the project and the password form, or why the link does not
// work.
func (h *Invites) Page(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	inv, err := h.Sys.InviteByToken(ctx(c), c.Param("token"))
	if err != nil {
		return h.gone(c, err)
	}
	return h.form(c, http.StatusOK, inv, views.Form{})
}

// Accept sets the password, uses up the link and signs the person in.
func (h *Invites) Accept(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	inv, err := h.Sys.AcceptInvite(ctx(c), c.Param("token"),
		models.NewPassword{Password: c.FormValue("password"), Confirm: c.FormValue("confirm")}, c.RealIP())
	switch {
	case models.FieldErrors(err) != nil:
		return h.form(c, http.StatusUnprocessableEntity, inv, views.Form{Errors: models.FieldErrors(err)})
	case errors.Is(err, models.ErrHasPassword):
		return redirect(c, "/signin?next=/projects/"+inv.ProjectID)
	case err != nil:
		return h.gone(c, err)
	}
	if err := h.Sessions.SignIn(c, inv.User.ID); err != nil {
		return err
	}
	h.Log.Info("invite accepted", "user", inv.User.ID, "project", inv.ProjectID)
	if err := h.Sys.RecordSignIn(ctx(c), actorOf(c, inv.User), true); err != nil {
		return err
	}
	return redirect(c, "/projects/"+inv.ProjectID)
}

func (h *Invites) form(c echo.Context, status int, inv models.PendingInvite, f views.Form) error {
	p, err := pageFor(c, h.Sys, "Join "+inv.ProjectName)
	if err != nil {
		return err
	}
	vm := views.AcceptInviteVM{Action: "/invite/" + c.Param("token"), ProjectName: inv.ProjectName, Name: inv.User.Name(),
		Email: inv.User.Email, HasPassword: inv.HasPassword(), SignInURL: "/signin?next=/projects/" + inv.ProjectID, Form: f}
	return renderForm(c, status, views.AcceptInvitePage(p, vm), views.AcceptInviteForm(p.CSRF, vm))
}

// gone explains a link that does not work, without saying anything about
// the project or the person it was for.
func (h *Invites) gone(c echo.Context, err error) error {
	vm := views.ErrorVM{Status: http.StatusNotFound,
		Message: "This invite link is not valid. It may have been replaced by a newer invitation: ask the project's admin for a new link."}
	switch {
	case errors.Is(err, models.ErrInviteUsed):
		vm.Status, vm.Message = http.StatusGone, "This invite link has already been used. Sign in with the password you chose."
	case errors.Is(err, models.ErrInviteExpired):
		vm.Status, vm.Message = http.StatusGone, "This invite link has expired. Ask the project's admin to invite you again."
	case !errors.Is(err, models.ErrNotFound):
		return err
	}
	vm.Title = http.StatusText(vm.Status)
	p, perr := pageFor(c, h.Sys, vm.Title)
	if perr != nil {
		return perr
	}
	return render(c, vm.Status, views.ErrorPage(p, vm))
}
