package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Members serves a project's member list, invitations and member edits.
type Members struct {
	Sys Directory
	// Postman queues the invitation mail when a mail server is configured;
	// without one the link is only shown to the admin.
	Postman Postman
}

// List shows the members, the open invitations and the invite form, and
// what the last change did when a save sent the browser here (see
// savedNotice).
func (h *Members) List(c echo.Context, sc models.Scope) error {
	vm, err := h.listVM(c, sc)
	if err != nil {
		return err
	}
	vm.Notice = memberNotice(c.QueryParam(savedParam), vm.Rows)
	return h.panel(c, http.StatusOK, vm)
}

// memberNotice says what a save did: saved names a membership just saved,
// or is removedMember or withdrawnInvite. Any other value says nothing.
func memberNotice(saved string, rows []views.MemberRowVM) string {
	switch saved {
	case "":
		return ""
	case removedMember:
		return "Removed the member from the project."
	case withdrawnInvite:
		return "Withdrew the invitation."
	}
	for _, r := range rows {
		if r.ID == saved {
			return "Saved " + r.Name + ": " + memberSummary(r) + "."
		}
	}
	return ""
}

// memberSummary is a member's role, status and policy, e.g. "admin, policy
// Readers".
func memberSummary(r views.MemberRowVM) string {
	parts := []string{"member"}
	if r.Admin {
		parts[0] = "admin"
	}
	if !r.Active {
		parts = append(parts, "inactive")
	}
	if r.Policy != "" {
		parts = append(parts, "policy "+r.Policy)
	} else {
		parts = append(parts, "no access policy (full access)")
	}
	return strings.Join(parts, ", ")
}

// Values of savedParam on the members page that name no membership.
const (
	removedMember   = "removed"
	withdrawnInvite = "withdrawn"
)

// Invite opens an invitation to an email address. Its link is in this
// answer only: it is not stored and cannot be shown again. Nothing on the
// page depends on whether the address has an account.
func (h *Members) Invite(c echo.Context, sc models.Scope) error {
	var f forms.Invite
	var got members.Invited
	errs, err := submit(c, &f, func() (err error) {
		in := members.InviteInput{Email: f.Email, Admin: f.Admin.On(), AccessPolicyID: optional(f.AccessPolicy)}
		got, err = sc.Store().Invite(ctx(c), sc.Actor(c.RealIP()), in, h.inviteLetter(c, sc))
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		vm, err := h.listVM(c, sc)
		if err != nil {
			return err
		}
		vm.Invite, vm.InviteErrors = f, errs
		return h.panel(c, http.StatusUnprocessableEntity, vm)
	}
	return h.invited(c, sc, got)
}

// Resend replaces an open invitation's link with a new one, with the same
// role, for seven more days.
func (h *Members) Resend(c echo.Context, sc models.Scope) error {
	t := sc.Store()
	inv, err := t.Invitation(ctx(c), c.Param("invitation"))
	if err != nil {
		return err
	}
	got, err := t.Invite(ctx(c), sc.Actor(c.RealIP()), members.InviteInput{Email: inv.Email, Admin: inv.Admin, AccessPolicyID: inv.AccessPolicyID},
		h.inviteLetter(c, sc))
	if kit.FieldErrors(err) != nil {
		vm, lerr := h.listVM(c, sc)
		if lerr != nil {
			return lerr
		}
		vm.Error = kit.FieldErrors(err)["email"]
		return h.panel(c, http.StatusUnprocessableEntity, vm)
	}
	if err != nil {
		return err
	}
	return h.invited(c, sc, got)
}

// invited shows the members page with a fresh invitation's link.
func (h *Members) invited(c echo.Context, sc models.Scope, got members.Invited) error {
	vm, err := h.listVM(c, sc)
	if err != nil {
		return err
	}
	inv := got.Invitation
	link := &views.InviteLinkVM{URL: inviteURL(c, got.Token), Email: inv.Email, Expires: when(inv.ExpiresAt),
		Queued: h.Postman.queued()}
	vm.Notice = "Invited " + inv.Email + "."
	if got.Reissued {
		vm.Notice = "New invitation link for " + inv.Email + ". The previous link no longer works."
	}
	vm.Link = link
	return h.panel(c, http.StatusOK, vm)
}

// Revoke withdraws an open invitation.
func (h *Members) Revoke(c echo.Context, sc models.Scope) error {
	inv, err := sc.Store().RevokeInvitation(ctx(c), sc.Actor(c.RealIP()), c.Param("invitation"))
	if err != nil {
		return err
	}
	if !IsHTMX(c) {
		return redirect(c, savedURL(paths.Members.URL(sc.Project().ID), withdrawnInvite))
	}
	vm, err := h.listVM(c, sc)
	if err != nil {
		return err
	}
	vm.Notice = "Withdrew the invitation to " + inv.Email + "."
	return render(c, http.StatusOK, views.MembersPanel(vm))
}

func inviteURL(c echo.Context, token string) string { return Origin(c) + paths.Invite.URL(token) }

// inviteLetter is the invitation's mail, queued with the invitation when a
// mail server is configured. A sending failure never reaches the admin,
// who has the link on screen anyway: the sender retries and logs it.
func (h *Members) inviteLetter(c echo.Context, sc models.Scope) mail.Letter {
	return inviteLetter(c, sc, h.Postman)
}

// inviteLetter is the mail of an invitation sc's member sends (see
// Members.inviteLetter).
func inviteLetter(c echo.Context, sc models.Scope, postman Postman) mail.Letter {
	inviter := sc.User()
	project := sc.Access().Project.Name
	return postman.Letter(func(token string, expires time.Time) mail.Message {
		body := fmt.Sprintf("Hello,\n\n%s invited you to the project %q on Enclave.\n\n"+
			"Open this link, then sign in or register with this email address to accept:\n\n%s\n\n"+
			"The invitation is open until %s. If you did not expect it, ignore this email.\n",
			inviter.Name(), project, inviteURL(c, token), when(expires))
		return mail.Message{Subject: "You are invited to " + project, Body: body, Purpose: "invitation"}
	})
}

// when formats a time for the console.
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }

// EditPage shows one member's role form.
func (h *Members) EditPage(c echo.Context, sc models.Scope) error {
	m, err := sc.Store().Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	f := forms.Member{Admin: forms.Checkbox(m.Membership.Admin), Active: forms.Checkbox(m.Membership.Active),
		AccessPolicy: derefString(m.Membership.AccessPolicyID)}
	return h.editForm(c, sc, http.StatusOK, views.MemberEditVM{Member: memberRow(c, sc, m, nil), Form: f})
}

// Update saves a member's admin flag, active flag and access policy.
func (h *Members) Update(c echo.Context, sc models.Scope) error {
	t := sc.Store()
	m, err := t.Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	var f forms.Member
	errs, err := submit(c, &f, func() error {
		u := members.MemberUpdate{Admin: f.Admin.On(), Active: f.Active.On(), AccessPolicyID: optional(f.AccessPolicy)}
		_, err := t.UpdateMember(ctx(c), sc.Actor(c.RealIP()), m.Membership.ID, u)
		return err
	})
	if errors.Is(err, members.ErrLastAdmin) {
		errs.Form, err = lastAdminMessage(m), nil
	}
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.editForm(c, sc, http.StatusUnprocessableEntity, views.MemberEditVM{Member: memberRow(c, sc, m, nil), Form: f, Errors: errs})
	}
	if self(c, m) {
		if !f.Active.On() {
			return redirect(c, paths.Projects.URL())
		}
		if !f.Admin.On() {
			return redirect(c, savedURL(paths.Project.URL(sc.Project().ID), selfDemoted))
		}
	}
	return redirect(c, savedURL(paths.Members.URL(sc.Project().ID), m.Membership.ID))
}

// RemovePage asks for confirmation (the no-JavaScript path; htmx asks with
// hx-confirm and posts directly).
func (h *Members) RemovePage(c echo.Context, sc models.Scope) error {
	m, err := sc.Store().Member(ctx(c), c.Param("member"))
	if err != nil {
		return err
	}
	return h.removePage(c, sc, http.StatusOK, views.MemberRemoveVM{Member: memberRow(c, sc, m, nil)})
}

// Remove deletes a membership.
func (h *Members) Remove(c echo.Context, sc models.Scope) error {
	t := sc.Store()
	m, err := t.RemoveMember(ctx(c), sc.Actor(c.RealIP()), c.Param("member"))
	if errors.Is(err, members.ErrLastAdmin) {
		m, merr := t.Member(ctx(c), c.Param("member"))
		if merr != nil {
			return merr
		}
		if IsHTMX(c) {
			vm, lerr := h.listVM(c, sc)
			if lerr != nil {
				return lerr
			}
			vm.Error = lastAdminMessage(m)
			return render(c, http.StatusUnprocessableEntity, views.MembersPanel(vm))
		}
		return h.removePage(c, sc, http.StatusUnprocessableEntity, views.MemberRemoveVM{Member: memberRow(c, sc, m, nil), Error: lastAdminMessage(m)})
	}
	if err != nil {
		return err
	}
	if self(c, m) {
		return redirect(c, paths.Projects.URL())
	}
	if !IsHTMX(c) {
		return redirect(c, savedURL(paths.Members.URL(sc.Project().ID), removedMember))
	}
	vm, err := h.listVM(c, sc)
	if err != nil {
		return err
	}
	vm.Notice = fmt.Sprintf("Removed %s (%s) from the project.", m.User.Name(), m.User.Email)
	return render(c, http.StatusOK, views.MembersPanel(vm))
}

func lastAdminMessage(m members.Member) string {
	return m.User.Name() + " is the last active admin of this project. Make another member an admin first."
}

func self(c echo.Context, m members.Member) bool {
	u, _ := CurrentUser(c)
	return u.ID == m.User.ID
}

// listVM builds the members page with an empty invite form.
func (h *Members) listVM(c echo.Context, sc models.Scope) (views.MembersVM, error) {
	t := sc.Store()
	p, err := projectPage(c, h.Sys, sc, "Members")
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
	vm := views.MembersVM{Page: p}
	for _, pol := range policies {
		names[pol.ID] = pol.Name
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	for _, m := range members {
		vm.Rows = append(vm.Rows, memberRow(c, sc, m, names))
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
func memberRow(c echo.Context, sc models.Scope, m members.Member, names map[string]string) views.MemberRowVM {
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
		r.ProfileURL = paths.Resource.URL(sc.Project().ID, m.Membership.ProfileType, *id)
	}
	return r
}

func (h *Members) panel(c echo.Context, status int, vm views.MembersVM) error {
	return renderForm(c, status, views.MembersPage(vm), views.MembersPanel(vm))
}

func (h *Members) editForm(c echo.Context, sc models.Scope, status int, vm views.MemberEditVM) error {
	p, err := projectPage(c, h.Sys, sc, "Edit member")
	if err != nil {
		return err
	}
	policies, err := sc.Store().AccessPolicies(ctx(c))
	if err != nil {
		return err
	}
	vm.Page = p
	for _, pol := range policies {
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	return renderForm(c, status, views.MemberEditPage(vm), views.MemberForm(vm))
}

func (h *Members) removePage(c echo.Context, sc models.Scope, status int, vm views.MemberRemoveVM) error {
	p, err := projectPage(c, h.Sys, sc, "Remove member")
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
