package forms

// Name changes the signed-in person's name on the account page.
type Name struct {
	FirstName string `form:"firstName"`
	LastName  string `form:"lastName"`
}

// Email asks for a link to a new address, with the account's password.
// Its password input has a name of its own, as the password form on the
// same page has a "current" input too.
type Email struct {
	Email    string `form:"email"`
	Password string `form:"emailPassword"`
}

// Password changes the account's password.
type Password struct {
	Current  string `form:"current"`
	Password string `form:"password"`
	Confirm  string `form:"confirm"`
}
