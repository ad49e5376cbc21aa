package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"enclave/models"
	"enclave/views"
	"enclave/views/forms"

	"github.com/labstack/echo/v4"
)

// Admin serves the super admin's dashboard: every project, every account,
// and the server itself. Only super admins reach it (web.requireSuperAdmin).
type Admin struct {
	Sys  Operators
	Info ServerInfo
}

// ServerInfo is what the server page tells of the running process.
type ServerInfo struct {
	Version string
	Started time.Time
	// Settings is the configuration in effect, its secrets masked.
	Settings func() []Setting
}

// Setting is one line of the configuration in effect.
type Setting struct{ Name, Value string }

// Projects lists every project, searched by name, sorted and paged.
func (h *Admin) Projects(c echo.Context) error {
	var f forms.AdminProjects
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	sort := models.ProjectSort(f.Sort)
	if f.Sort != "" && !slices.Contains(models.ProjectSorts, sort) {
		errs.Add("sort", "Choose an order from the list.")
		sort = models.SortName
	}
	vm := views.AdminProjectsVM{Filter: f, Errors: errs}
	if id := c.QueryParam(expungedParam); id != "" {
		e, ok, err := h.Sys.Expunged(ctx(c), id)
		if err != nil {
			return err
		}
		if ok {
			vm.Notice = "Expunged " + e.ProjectName + " with everything of it."
		}
	}
	list, err := h.Sys.AllProjectsPage(ctx(c), models.ProjectQuery{Search: f.Search(), Sort: sort, Page: f.PageNumber(errs)})
	if err != nil {
		return err
	}
	vm.Total, vm.Page, vm.More = list.Total, list.Page, list.More
	for _, s := range models.ProjectSorts {
		vm.Sorts = append(vm.Sorts, string(s))
	}
	for _, r := range list.Rows {
		vm.Rows = append(vm.Rows, views.AdminProjectRowVM{ID: r.Project.ID, Name: r.Project.Name,
			SuperAdmin: r.Project.SuperAdmin, Members: r.Members, Resources: r.Resources, Size: byteSize(r.Bytes),
			Created: r.Project.CreatedAt.UTC().Format("2006-01-02"), LastActivity: shownTime(r.LastActivity)})
	}
	return h.page(c, "Projects", func(p views.Page) error {
		return render(c, statusOf(errs), views.AdminProjectsPage(p, vm))
	})
}

// Users lists every account with its memberships, searched and paged.
func (h *Admin) Users(c echo.Context) error {
	var f forms.AdminUsers
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	list, err := h.Sys.AllUsersPage(ctx(c), models.UserQuery{Search: f.Search(), Page: f.PageNumber(errs)})
	if err != nil {
		return err
	}
	vm := views.AdminUsersVM{Filter: f, Errors: errs, Total: list.Total, Page: list.Page, More: list.More}
	for _, r := range list.Rows {
		vm.Rows = append(vm.Rows, accountVM(r))
	}
	return h.page(c, "Users", func(p views.Page) error {
		return render(c, statusOf(errs), views.AdminUsersPage(p, vm))
	})
}

// User shows one account, its memberships, and the operator's acts on it.
func (h *Admin) User(c echo.Context) error {
	return h.account(c, http.StatusOK, views.AdminUserVM{})
}

// account renders the account page of :user with vm's outcome of an act.
func (h *Admin) account(c echo.Context, status int, vm views.AdminUserVM) error {
	row, err := h.Sys.AccountOf(ctx(c), c.Param("user"))
	if err != nil {
		return err
	}
	vm.Account = accountVM(row)
	me, _ := CurrentUser(c)
	vm.Self = me.ID == row.User.ID
	p, err := pageFor(c, h.Sys, "User "+row.User.Email)
	if err != nil {
		return err
	}
	return render(c, status, views.AdminUserPage(p, vm))
}

// Deactivate deactivates the account, once its email is typed: its sessions
// end at once and it can no longer sign in.
func (h *Admin) Deactivate(c echo.Context) error {
	return h.act(c, "deactivate", func(confirm string) (string, error) {
		u, err := h.Sys.SetUserDeactivated(ctx(c), Actor(c), c.Param("user"), confirm, true)
		return "Deactivated " + u.Email + ": every session of the account has ended.", err
	})
}

// Reactivate lets a deactivated account sign in again, once its email is
// typed.
func (h *Admin) Reactivate(c echo.Context) error {
	return h.act(c, "reactivate", func(confirm string) (string, error) {
		u, err := h.Sys.SetUserDeactivated(ctx(c), Actor(c), c.Param("user"), confirm, false)
		return "Reactivated " + u.Email + ": the account can sign in again.", err
	})
}

// TemporaryPassword gives the account a random password, shown once on the
// answer, that must be changed at its next sign-in.
func (h *Admin) TemporaryPassword(c echo.Context) error {
	var password string
	return h.act(c, "password", func(confirm string) (string, error) {
		u, pw, err := h.Sys.SetTemporaryPassword(ctx(c), Actor(c), c.Param("user"), confirm)
		password = pw
		return "Temporary password set for " + u.Email + ". Give it to them safely: it is shown only now. " +
			"They must choose a new one when they sign in; their sessions have ended.", err
	}, func(vm *views.AdminUserVM) { vm.TemporaryPassword = password })
}

// act runs one of the operator's acts on :user, confirmed by the typed
// email (form kind names which form the errors belong to), and shows the
// account's page with the outcome.
func (h *Admin) act(c echo.Context, kind string, do func(confirm string) (string, error), more ...func(*views.AdminUserVM)) error {
	var f forms.ConfirmAccount
	var notice string
	errs, err := submit(c, &f, func() (err error) {
		notice, err = do(f.Confirm)
		return err
	})
	if err != nil {
		return err
	}
	vm := views.AdminUserVM{Form: kind}
	if errs.Any() {
		vm.Errors = errs
		return h.account(c, http.StatusUnprocessableEntity, vm)
	}
	vm.Notice = notice
	for _, m := range more {
		m(&vm)
	}
	return h.account(c, http.StatusOK, vm)
}

// Server shows the version, the database, uptime, counts and the
// configuration in effect.
func (h *Admin) Server(c echo.Context) error {
	f, err := h.Sys.Facts(ctx(c))
	if err != nil {
		return err
	}
	vm := views.AdminServerVM{Version: h.Info.Version, Database: string(f.Dialect), Size: byteSize(f.Bytes),
		Migration: f.Migration, Migrations: f.Migrations, Started: h.Info.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Uptime: time.Since(h.Info.Started).Round(time.Second).String(),
		Counts: []views.AdminCountVM{{Label: "Users", N: f.Users}, {Label: "Projects", N: f.Projects},
			{Label: "Memberships", N: f.Memberships}, {Label: "Resources", N: f.Resources}}}
	if h.Info.Settings != nil {
		for _, s := range h.Info.Settings() {
			vm.Settings = append(vm.Settings, views.AdminSettingVM{Name: s.Name, Value: s.Value})
		}
	}
	return h.page(c, "Server", func(p views.Page) error {
		return render(c, http.StatusOK, views.AdminServerPage(p, vm))
	})
}

// page builds the layout's view model and renders with it.
func (h *Admin) page(c echo.Context, title string, do func(views.Page) error) error {
	p, err := pageFor(c, h.Sys, title)
	if err != nil {
		return err
	}
	return do(p)
}

// statusOf is a list page's status: 422 when its filter did not read.
func statusOf(errs forms.Errors) int {
	if errs.Any() {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

func accountVM(r models.UserRow) views.AdminAccountVM {
	u := r.User
	vm := views.AdminAccountVM{ID: u.ID, Name: u.Name(), Email: u.Email, Verified: u.Verified(),
		Deactivated: u.Deactivated(), MustChangePassword: u.MustChangePassword, Created: u.CreatedAt.UTC().Format("2006-01-02")}
	for _, m := range r.Memberships {
		vm.Memberships = append(vm.Memberships, views.AdminMembershipVM{ProjectID: m.ProjectID, Project: m.ProjectName,
			Admin: m.Admin, Active: m.Active})
	}
	return vm
}

// shownTime is a time as the dashboard shows it; "—" when there is none.
func shownTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// byteSize is a size in bytes for people; "—" when unknown (negative).
func byteSize(n int64) string {
	switch {
	case n < 0:
		return "—"
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
