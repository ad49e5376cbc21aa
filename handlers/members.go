package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// Members serves a project's member list, invitations and member edits.
type Members struct {
	Sys models.System
	// Mailer is nil when no mail server is configured: links are then only
	// shown to the admin.
	Mailer Mailer
	Log    *slog.Logger
}

var inviteFields = []string{"email", "admin", "accessPolicy"}

// List shows the members, the open invitations and the invite form.
func (h *Members) List(c echo.Context) error {
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	return h.panel(c, http.StatusOK, vm)
}

// Invite opens an invitation to an email address. Its link is in this
// answer only: it is not stored and cannot be shown again. Nothing on the
// page depends on whether the address has an account.
func (h *Members) Invite(c echo.Context) error {
	in := models.InviteInput{Email: c.FormValue("email"), Admin: c.FormValue("admin") == "on",
		AccessPolicyID: optional(c.FormValue("accessPolicy"))}
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
	return h.invited(c, got)
}

// Resend replaces an open invitation's link with a new one, with the same
// role, for seven more days.
func (h *Members) Resend(c echo.Context) error {
	t := TenantOf(c)
	inv, err := t.Invitation(ctx(c), c.Param("invitation"))
	if err != nil {
		return err
	}
	got, err := t.Invite(ctx(c), Actor(c), models.InviteInput{Email: inv.Email, Admin: inv.Admin, AccessPolicyID: inv.AccessPolicyID})
	if models.FieldErrors(err) != nil {
		vm, lerr := h.listVM(c, views.Form{})
		if lerr != nil {
			return lerr
		}
		vm.Error = models.FieldErrors(err)["email"]
		return h.panel(c, http.StatusUnprocessableEntity, vm)
	}
	if err != nil {
		return err
	}
	return h.invited(c, got)
}

// invited shows the members page with a fresh invitation's link.
func (h *Members) invited(c echo.Context, got models.Invited) error {
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	inv := got.Invitation
	link := &views.InviteLinkVM{URL: Origin(c) + "/invite/" + got.Token, Email: inv.Email, Expires: when(inv.ExpiresAt)}
	vm.Notice = "Invited " + inv.Email + "."
	if got.Reissued {
		vm.Notice = "New invitation link for " + inv.Email + ". The previous link no longer works."
	}
	if h.Mailer != nil {
		link.Mailed = h.mail(c, inv.Email, "You are invited to "+AccessOf(c).Project.Name, inviteMail(c, link))
		link.MailFailed = !link.Mailed
	}
	vm.Link = link
	return h.panel(c, http.StatusOK, vm)
}

// Revoke withdraws an open invitation.
func (h *Members) Revoke(c echo.Context) error {
	inv, err := TenantOf(c).RevokeInvitation(ctx(c), Actor(c), c.Param("invitation"))
	if err != nil {
		return err
	}
	if !IsHTMX(c) {
		return redirect(c, projectURL(c, "/members"))
	}
	vm, err := h.listVM(c, views.Form{})
	if err != nil {
		return err
	}
	vm.Notice = "Withdrew the invitation to " + inv.Email + "."
	return render(c, http.StatusOK, views.MembersPanel(vm))
}

// mail sends a message if a mailer is configured and reports whether it was
// sent. A failure is logged (without the message, which holds a link) and
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
		"Open this link, then sign in or register with this email address to accept:\n\n%s\n\n"+
		"The invitation is open until %s. If you did not expect it, ignore this email.\n",
		inviter.Name(), AccessOf(c).Project.Name, link.URL, link.Expires)
}

// when formats a time for the console.
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }

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
	invitations, err := t.Invitations(ctx(c))
	if err != nil {
		return views.MembersVM{}, err
	}
	vm := views.MembersVM{Page: p, Form: f}
	for _, pol := range policies {
		names[pol.ID] = pol.Name
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	for _, m := range members {
		vm.Rows = append(vm.Rows, memberRow(c, m, names))
	}
	for _, o := range invitations {
		inv := o.Invitation
		r := views.InvitationRowVM{ID: inv.ID, Email: inv.Email, Admin: inv.Admin, Sent: inv.CreatedAt.UTC().Format("2006-01-02"),
			Expires: when(inv.ExpiresAt), Expired: inv.Expired()}
		if id := inv.AccessPolicyID; id != nil {
			r.Policy = names[*id]
		}
		if o.Inviter.ID != "" {
			r.InvitedBy = o.Inviter.Name()
		}
		vm.Invitations = append(vm.Invitations, r)
	}
	return vm, nil
}

// memberRow describes a member; names maps policy ids to names (nil leaves
// the policy column empty).
func memberRow(c echo.Context, m models.Member, names map[string]string) views.MemberRowVM {
	r := views.MemberRowVM{ID: m.Membership.ID, Name: m.User.Name(), Email: m.User.Email, Admin: m.Membership.Admin,
		Active: m.Membership.Active, Self: self(c, m),
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
