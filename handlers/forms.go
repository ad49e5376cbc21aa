package handlers

import (
	"mime"
	"net/http"

	"enclave/models/kit"
	"enclave/views/forms"

	"github.com/labstack/echo/v4"
)

// validator is a form that checks its own fields (see forms.Settings).
type validator interface{ Validate() forms.Errors }

// bindForm fills f, a pointer to one of the forms structs, from the request
// with echo's binder: the query of a GET, the fields of a form body. No
// value fails to bind (a typed field keeps what it cannot read, and its
// form's Validate says so), so what is wrong with the values comes back as
// field errors, with f as submitted. The models' rules are checked where
// the form is acted on, and their messages (kit.FieldErrors) merged into
// the same errors.
//
// A body must be a web form, as the console's forms send it: echo's binder
// would read JSON and multipart bodies too, whose fields miss the checks
// the server makes on form bodies (see web.rejectUnstorableInput).
func bindForm(c echo.Context, f any) (forms.Errors, error) {
	r := c.Request()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); r.ContentLength != 0 && mt != echo.MIMEApplicationForm {
		return forms.Errors{}, echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send the form as a web form (application/x-www-form-urlencoded).")
	}
	if err := c.Bind(f); err != nil {
		return forms.Errors{}, echo.NewHTTPError(http.StatusBadRequest, "This form could not be read. Reload the page and try again.").SetInternal(err)
	}
	if v, ok := f.(validator); ok {
		return v.Validate(), nil
	}
	return forms.Errors{}, nil
}

// submit binds the request into f (see bindForm) and, when every value
// reads, acts on it: act's refusal by the models (a *kit.ValidationError)
// joins the form's errors, with the models' own messages. err is any other
// failure, of the binding or of act; when it is nil and errs has anything,
// the form goes back to its page as it was sent.
func submit(c echo.Context, f any, act func() error) (errs forms.Errors, err error) {
	if errs, err = bindForm(c, f); err != nil || errs.Any() {
		return errs, err
	}
	err = act()
	if fields := kit.FieldErrors(err); fields != nil {
		errs.Merge(fields)
		return errs, nil
	}
	return errs, err
}
