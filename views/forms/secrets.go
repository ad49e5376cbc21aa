package forms

// Secret adds a secret. Its value is never shown again, not even in the
// form sent back after an error.
type Secret struct {
	Name  string `form:"name"`
	Value string `form:"value"`
}

// SecretValue replaces a secret's value.
type SecretValue struct {
	Value string `form:"value"`
}

// SecretName renames a secret.
type SecretName struct {
	Name string `form:"name"`
}
