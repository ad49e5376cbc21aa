package forms

// Resource is the resource editor: a resource's JSON, created or saved as
// a new version.
type Resource struct {
	JSON string `form:"json"`
	// Version is the version an edit was loaded from.
	Version string `form:"version"`
	// Token is a create form's one-time token.
	Token string `form:"formToken"`
}

// TypeJump opens a resource type by its name, typed on the type picker.
type TypeJump struct {
	Type string `query:"type"`
}
