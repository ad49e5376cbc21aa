package handlers

import (
	"net/http"
	"strconv"
	"time"

	"enclave/models"
	"enclave/models/clients"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Clients serves a project's API clients. A client's secret is shown once,
// in the answer to the create or rotate that made it, and never again.
type Clients struct {
	Sys Directory
}

// List shows the clients and the form that adds one.
func (h *Clients) List(c echo.Context, sc models.Scope) error {
	return h.list(c, sc, http.StatusOK, views.ClientsVM{Form: forms.Client{TokenLifetime: forms.IntOf(int(clients.DefaultTokenLifetime / time.Minute))}})
}

func (h *Clients) list(c echo.Context, sc models.Scope, status int, vm views.ClientsVM) error {
	t := sc.Store()
	list, err := t.Clients(ctx(c))
	if err != nil {
		return err
	}
	pols, err := t.AccessPolicies(ctx(c))
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, pol := range pols {
		names[pol.ID] = pol.Name
		vm.Policies = append(vm.Policies, views.Option{Value: pol.ID, Label: pol.Name})
	}
	for _, cl := range list {
		vm.Rows = append(vm.Rows, clientRowVM(cl, names))
	}
	p, err := projectPage(c, h.Sys, sc, "API clients")
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ClientsPage(p, vm), views.ClientsPanel(p, vm))
}

// Create adds a client and shows its secret, this once.
func (h *Clients) Create(c echo.Context, sc models.Scope) error {
	var f forms.Client
	var made clients.Client
	var secret string
	errs, err := submit(c, &f, func() (err error) {
		made, secret, err = sc.Store().CreateClient(ctx(c), sc.Actor(c.RealIP()), clients.Input{Name: f.Name,
			Description: f.Description, RedirectURIs: f.URIs(), AccessPolicyID: f.AccessPolicy, TokenLifetime: f.Lifetime()})
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.list(c, sc, http.StatusUnprocessableEntity, views.ClientsVM{Form: f, Errors: errs})
	}
	noStore(c)
	return h.list(c, sc, http.StatusOK, views.ClientsVM{
		Form:  forms.Client{TokenLifetime: forms.IntOf(int(clients.DefaultTokenLifetime / time.Minute))},
		Shown: &views.ClientSecretVM{Name: made.Name, ClientID: made.ID, Secret: secret, New: true}})
}

// client loads the client named in the URL; another project's is
// kit.ErrNotFound.
func (h *Clients) client(c echo.Context, sc models.Scope) (clients.Client, error) {
	return sc.Store().Client(ctx(c), c.Param("client"))
}

// Show is one client: its settings, and the forms that rotate its secret,
// disable or enable it, and delete it.
func (h *Clients) Show(c echo.Context, sc models.Scope) error {
	return h.show(c, sc, http.StatusOK, views.ClientVM{})
}

func (h *Clients) show(c echo.Context, sc models.Scope, status int, vm views.ClientVM) error {
	cl, err := h.client(c, sc)
	if err != nil {
		return err
	}
	names := map[string]string{}
	if cl.AccessPolicyID != nil {
		pols, err := sc.Store().AccessPolicies(ctx(c))
		if err != nil {
			return err
		}
		for _, pol := range pols {
			names[pol.ID] = pol.Name
		}
	}
	vm.Client = clientRowVM(cl, names)
	if vm.Rotate == (forms.ClientRotation{}) {
		vm.Rotate = forms.ClientRotation{Grace: forms.IntOf(int(clients.DefaultGrace / time.Hour))}
	}
	p, err := projectPage(c, h.Sys, sc, "Client "+cl.Name)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.ClientPage(p, vm), views.ClientPanel(p, vm))
}

// Rotate gives the client a new secret, shown this once; the previous one
// keeps working for the grace period asked for.
func (h *Clients) Rotate(c echo.Context, sc models.Scope) error {
	cl, err := h.client(c, sc)
	if err != nil {
		return err
	}
	var f forms.ClientRotation
	var secret string
	errs, err := submit(c, &f, func() (err error) {
		cl, secret, err = sc.Store().RotateClientSecret(ctx(c), sc.Actor(c.RealIP()), cl.ID, f.GraceOr(clients.DefaultGrace))
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.show(c, sc, http.StatusUnprocessableEntity, views.ClientVM{Rotate: f, RotateErrors: errs})
	}
	noStore(c)
	notice := "New secret made. The previous one stopped working."
	if cl.RetiringUntil != nil {
		notice = "New secret made. The previous one works until " + clientTime(*cl.RetiringUntil) + " UTC."
	}
	return h.show(c, sc, http.StatusOK, views.ClientVM{Notice: notice,
		Shown: &views.ClientSecretVM{Name: cl.Name, ClientID: cl.ID, Secret: secret}})
}

// Disable refuses the client's secret and voids its tokens.
func (h *Clients) Disable(c echo.Context, sc models.Scope) error {
	return h.setEnabled(c, sc, false)
}

// Enable lets the client get tokens again (not its earlier ones).
func (h *Clients) Enable(c echo.Context, sc models.Scope) error {
	return h.setEnabled(c, sc, true)
}

func (h *Clients) setEnabled(c echo.Context, sc models.Scope, on bool) error {
	cl, err := h.client(c, sc)
	if err != nil {
		return err
	}
	if _, err := sc.Store().SetClientEnabled(ctx(c), sc.Actor(c.RealIP()), cl.ID, on); err != nil {
		return err
	}
	notice := "Client disabled: its secret is refused and its tokens no longer work."
	if on {
		notice = "Client enabled: it can get new tokens."
	}
	return h.show(c, sc, http.StatusOK, views.ClientVM{Notice: notice})
}

// DeletePage asks for confirmation (htmx asks with hx-confirm instead).
func (h *Clients) DeletePage(c echo.Context, sc models.Scope) error {
	cl, err := h.client(c, sc)
	if err != nil {
		return err
	}
	p, err := projectPage(c, h.Sys, sc, "Delete client")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ClientDeletePage(p, clientRowVM(cl, nil)))
}

// Delete removes the client: its secrets and tokens stop working.
func (h *Clients) Delete(c echo.Context, sc models.Scope) error {
	cl, err := h.client(c, sc)
	if err != nil {
		return err
	}
	if err := sc.Store().DeleteClient(ctx(c), sc.Actor(c.RealIP()), cl.ID); err != nil {
		return err
	}
	return redirect(c, paths.Clients.URL(sc.Project().ID))
}

// noStore keeps an answer that shows a secret out of every cache.
func noStore(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

func clientTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func clientRowVM(cl clients.Client, policies map[string]string) views.ClientRowVM {
	vm := views.ClientRowVM{ID: cl.ID, Name: cl.Name, Description: cl.Description, RedirectURIs: cl.RedirectURIs,
		Enabled: cl.Enabled, Created: clientTime(cl.CreatedAt), Policy: "None (full access)",
		TokenLifetime: strconv.Itoa(int(cl.TokenLifetime/time.Minute)) + " minutes"}
	if cl.AccessPolicyID != nil {
		vm.Policy = policies[*cl.AccessPolicyID]
	}
	if cl.RetiringUntil != nil {
		vm.RetiringUntil = clientTime(*cl.RetiringUntil)
	}
	return vm
}
