package forms

// Settings is a project's settings editor.
type Settings struct {
	Name        string `form:"name"`
	Description string `form:"description"`
	// Version is the project's version the form was shown with: a save
	// over a newer one is refused.
	Version                Int      `form:"version"`
	StrictMode             Checkbox `form:"strictMode"`
	ConfirmStrictOff       Checkbox `form:"confirmStrictOff"`
	CheckReferencesOnWrite Checkbox `form:"checkReferencesOnWrite"`
	// DefaultPatientAccessPolicy is a policy id, "" for none.
	DefaultPatientAccessPolicy string `form:"defaultPatientAccessPolicy"`
	// The operator's fields are inputs a browser sends only to a super
	// admin's form (they are disabled on anyone else's): OperatorFields is
	// on in such a form, and Features and SuperAdmin are nil when the form
	// did not carry them.
	OperatorFields    Checkbox  `form:"operatorFields"`
	Features          []string  `form:"features"`
	SuperAdmin        *Checkbox `form:"superAdmin"`
	ConfirmSuperAdmin string    `form:"confirmSuperAdmin"`
}

// Validate reports a version that is not a number: the form is damaged.
func (f Settings) Validate() Errors {
	var e Errors
	if f.Version.Problem() != "" {
		e.Add("version", "This form is damaged: its version is not a number. Reload the page, then make your change again.")
	}
	return e
}

// SuperAdminOn reports whether the super-admin box is checked.
func (f Settings) SuperAdminOn() bool { return f.SuperAdmin != nil && f.SuperAdmin.On() }

// HasFeature reports whether the feature's box is checked.
func (f Settings) HasFeature(code string) bool {
	for _, x := range f.Features {
		if x == code {
			return true
		}
	}
	return false
}
