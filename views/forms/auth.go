package forms

// Register is step 1 of registration: the person's details.
type Register struct {
	FirstName string `form:"firstName"`
	LastName  string `form:"lastName"`
	Email     string `form:"email"`
	Password  string `form:"password"`
}

// SignIn is the sign-in form. Next, where to go once signed in, comes in
// the sign-in page's query and goes back in a hidden field.
type SignIn struct {
	Email    string `form:"email"`
	Password string `form:"password"`
	Next     string `form:"next" query:"next"`
}

// Project names a new project: registration's step 2 and "New project".
type Project struct {
	Name        string `form:"projectName"`
	Description string `form:"description"`
	// Token is the form's one-time token, so that a form sent twice makes
	// one project.
	Token string `form:"formToken"`
}

// Forgot asks for a password-reset link.
type Forgot struct {
	Email string `form:"email"`
}

// Reset chooses a new password with a reset link.
type Reset struct {
	Password string `form:"password"`
	Confirm  string `form:"confirm"`
}

// Join is open patient registration in a project: the account (for a
// visitor who is not signed in) and the Patient's birth date.
type Join struct {
	FirstName string `form:"firstName"`
	LastName  string `form:"lastName"`
	Email     string `form:"email"`
	Password  string `form:"password"`
	BirthDate string `form:"birthDate"`
	// Token is the form's one-time token, so that a form sent twice
	// registers once.
	Token string `form:"formToken"`
}
