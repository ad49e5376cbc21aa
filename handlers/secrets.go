package handlers

import (
	"net/http"

	"enclave/models"
	"enclave/models/secrets"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Secrets serves a project's secrets editor. Values go in and are never
// sent back: not in the list, not in a form after an error.
type Secrets struct {
	Sys Directory
	// Box seals the values; nil when the server has no valid key.
	Box *secrets.Box
}

func (h *Secrets) store(c echo.Context, sc models.Scope) (secrets.Store, error) {
	if h.Box == nil {
		return secrets.Store{}, echo.NewHTTPError(http.StatusServiceUnavailable,
			"Secrets are unavailable: the server has no valid secrets key. Ask the server operator.")
	}
	return sc.Store().Secrets(h.Box), nil
}

// List shows the secrets and the form that adds one.
func (h *Secrets) List(c echo.Context, sc models.Scope) error {
	return h.list(c, sc, http.StatusOK, views.SecretsVM{})
}

func (h *Secrets) list(c echo.Context, sc models.Scope, status int, vm views.SecretsVM) error {
	st, err := h.store(c, sc)
	if err != nil {
		return err
	}
	secrets, err := st.List(ctx(c))
	if err != nil {
		return err
	}
	for _, s := range secrets {
		vm.Rows = append(vm.Rows, secretRowVM(s))
	}
	p, err := projectPage(c, h.Sys, sc, "Secrets")
	if err != nil {
		return err
	}
	return renderForm(c, status, views.SecretsPage(p, vm), views.SecretsPanel(p, vm))
}

// Create adds a secret.
func (h *Secrets) Create(c echo.Context, sc models.Scope) error {
	st, err := h.store(c, sc)
	if err != nil {
		return err
	}
	var f forms.Secret
	var s secrets.Secret
	errs, err := submit(c, &f, func() (err error) {
		s, err = st.Create(ctx(c), sc.Actor(c.RealIP()), f.Name, f.Value)
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.list(c, sc, http.StatusUnprocessableEntity, views.SecretsVM{Form: f, Errors: errs})
	}
	return h.list(c, sc, http.StatusOK, views.SecretsVM{Notice: "Secret " + s.Name + " added."})
}

// EditPage shows the forms that replace a value and rename.
func (h *Secrets) EditPage(c echo.Context, sc models.Scope) error {
	return h.edit(c, sc, http.StatusOK, views.SecretEditVM{})
}

// secret loads the secret named in the URL; another project's is ErrNotFound.
func (h *Secrets) secret(c echo.Context, sc models.Scope) (secrets.Store, secrets.Secret, error) {
	st, err := h.store(c, sc)
	if err != nil {
		return st, secrets.Secret{}, err
	}
	s, err := st.Get(ctx(c), c.Param("secret"))
	return st, s, err
}

func (h *Secrets) edit(c echo.Context, sc models.Scope, status int, vm views.SecretEditVM) error {
	_, s, err := h.secret(c, sc)
	if err != nil {
		return err
	}
	vm.Secret = secretRowVM(s)
	if !vm.RenameErrors.Any() {
		vm.Rename = forms.SecretName{Name: s.Name}
	}
	p, err := projectPage(c, h.Sys, sc, "Secret "+s.Name)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.SecretEditPage(p, vm), views.SecretEditPanel(p, vm))
}

// Replace gives the secret a new value.
func (h *Secrets) Replace(c echo.Context, sc models.Scope) error {
	st, err := h.store(c, sc)
	if err != nil {
		return err
	}
	var f forms.SecretValue
	errs, err := submit(c, &f, func() error {
		_, err := st.Replace(ctx(c), sc.Actor(c.RealIP()), c.Param("secret"), f.Value)
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.edit(c, sc, http.StatusUnprocessableEntity, views.SecretEditVM{ReplaceErrors: errs})
	}
	return h.edit(c, sc, http.StatusOK, views.SecretEditVM{Notice: "Value replaced."})
}

// Rename changes the secret's name.
func (h *Secrets) Rename(c echo.Context, sc models.Scope) error {
	st, before, err := h.secret(c, sc)
	if err != nil {
		return err
	}
	var f forms.SecretName
	var s secrets.Secret
	errs, err := submit(c, &f, func() (err error) {
		s, err = st.Rename(ctx(c), sc.Actor(c.RealIP()), before.ID, f.Name)
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.edit(c, sc, http.StatusUnprocessableEntity, views.SecretEditVM{Rename: f, RenameErrors: errs})
	}
	notice := "Renamed to " + s.Name + "."
	if s.Name == before.Name {
		notice = "Nothing changed: the secret already has this name."
	}
	return h.edit(c, sc, http.StatusOK, views.SecretEditVM{Notice: notice})
}

// DeletePage asks for confirmation (htmx asks with hx-confirm instead).
func (h *Secrets) DeletePage(c echo.Context, sc models.Scope) error {
	_, s, err := h.secret(c, sc)
	if err != nil {
		return err
	}
	p, err := projectPage(c, h.Sys, sc, "Delete secret")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SecretDeletePage(p, secretRowVM(s)))
}

// Delete removes the secret: htmx gets the list back in place, plain
// browsers a redirect to it.
func (h *Secrets) Delete(c echo.Context, sc models.Scope) error {
	st, s, err := h.secret(c, sc)
	if err != nil {
		return err
	}
	if err := st.Delete(ctx(c), sc.Actor(c.RealIP()), s.ID); err != nil {
		return err
	}
	if IsHTMX(c) {
		return h.list(c, sc, http.StatusOK, views.SecretsVM{Notice: "Secret " + s.Name + " deleted."})
	}
	return redirect(c, paths.Secrets.URL(sc.Project().ID))
}

func secretRowVM(s secrets.Secret) views.SecretRowVM {
	vm := views.SecretRowVM{ID: s.ID, Name: s.Name, Hint: s.Hint, Updated: s.UpdatedAt.UTC().Format("2006-01-02 15:04"), UpdatedBy: "unknown"}
	if s.UpdatedBy != nil {
		vm.UpdatedBy = s.UpdatedBy.Name()
		if vm.UpdatedBy == "" {
			vm.UpdatedBy = s.UpdatedBy.Email
		}
	}
	return vm
}
