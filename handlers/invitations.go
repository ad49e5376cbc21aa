package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"enclave/models/kit"
	"enclave/models/members"
	"enclave/views"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Invites serves the invitee's side of invitations: the page an invite link
// opens, and accepting or declining. Only a signed-in account whose email
// address is verified and is the invited one can answer an invitation.
type Invites struct {
	Sys Accounts
}

// Page says what the invitation offers and what the visitor must do to
// accept it.
func (h *Invites) Page(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	inv, err := h.Sys.InvitationByToken(ctx(c), c.Param("token"))
	if err != nil {
		return h.gone(c, err)
	}
	vm := views.InviteLandingVM{Invitation: invitationVM(inv), State: "signed-out",
		Next: url.QueryEscape(c.Request().URL.Path)}
	if u, ok := CurrentUser(c); ok {
		vm.SignedInAs = u.Email
		switch {
		case u.Email != inv.Invitation.Email:
			vm.State = "other-address"
		case !u.Verified():
			vm.State = "unverified"
		default:
			vm.State = "ready"
		}
	}
	p, err := pageFor(c, h.Sys, "Join "+inv.ProjectName)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.InviteLandingPage(p, vm))
}

// Accept makes the signed-in user a member of the invitation's project and
// opens it.
func (h *Invites) Accept(c echo.Context) error {
	u, _ := CurrentUser(c)
	projectID, err := h.Sys.AcceptInvitation(ctx(c), u, c.Param("invitation"), c.RealIP())
	if err != nil {
		return h.refused(c, err)
	}
	return redirect(c, paths.Project.URL(projectID))
}

// Decline closes the invitation without joining.
func (h *Invites) Decline(c echo.Context) error {
	u, _ := CurrentUser(c)
	if err := h.Sys.DeclineInvitation(ctx(c), u, c.Param("invitation"), c.RealIP()); err != nil {
		return h.refused(c, err)
	}
	return redirect(c, paths.Projects.URL())
}

// refused explains why an invitation could not be answered.
func (h *Invites) refused(c echo.Context, err error) error {
	vm := views.ErrorVM{Status: http.StatusNotFound, Message: "This invitation is no longer open, or it is for another email address."}
	switch {
	case errors.Is(err, members.ErrNotVerified):
		vm.Status, vm.Message = http.StatusForbidden, "Verify your email address first: open the link we sent you, then accept the invitation."
	case errors.Is(err, members.ErrInviteExpired):
		vm.Status, vm.Message = http.StatusGone, "This invitation has expired. Ask the project's admin to invite you again."
	case kit.FieldErrors(err) != nil:
		vm.Status, vm.Message = http.StatusConflict, kit.FieldErrors(err)["invitation"]
	case !errors.Is(err, kit.ErrNotFound):
		return err
	}
	return h.errorPage(c, vm)
}

// gone explains an invite link that does not work, without saying anything
// about the project or the address it was for.
func (h *Invites) gone(c echo.Context, err error) error {
	vm := views.ErrorVM{Status: http.StatusNotFound,
		Message: "This invite link is not valid: it was used, withdrawn or replaced by a newer one. Ask the project's admin for a new link."}
	switch {
	case errors.Is(err, members.ErrInviteExpired):
		vm.Status, vm.Message = http.StatusGone, "This invite link has expired. Ask the project's admin to invite you again."
	case !errors.Is(err, kit.ErrNotFound):
		return err
	}
	return h.errorPage(c, vm)
}

func (h *Invites) errorPage(c echo.Context, vm views.ErrorVM) error {
	vm.Title = http.StatusText(vm.Status)
	p, err := pageFor(c, h.Sys, vm.Title)
	if err != nil {
		return err
	}
	return render(c, vm.Status, views.ErrorPage(p, vm))
}

// invitationVM describes an invitation to its invitee.
func invitationVM(inv members.PendingInvitation) views.InvitationVM {
	role := "a member"
	if inv.Invitation.Admin {
		role = "an admin"
	}
	return views.InvitationVM{ID: inv.Invitation.ID, ProjectName: inv.ProjectName, Email: inv.Invitation.Email,
		InvitedBy: inv.InviterName, Role: role, Expires: when(inv.Invitation.ExpiresAt)}
}

// myInvitations lists the invitations the signed-in user can answer.
func myInvitations(c echo.Context, sys Accounts) ([]views.InvitationVM, error) {
	u, ok := CurrentUser(c)
	if !ok {
		return nil, nil
	}
	list, err := sys.InvitationsFor(ctx(c), u)
	if err != nil {
		return nil, err
	}
	out := make([]views.InvitationVM, len(list))
	for i, inv := range list {
		out[i] = invitationVM(inv)
	}
	return out, nil
}
