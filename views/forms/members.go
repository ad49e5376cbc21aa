package forms

// Invite invites an email address to the project.
type Invite struct {
	Email string   `form:"email"`
	Admin Checkbox `form:"admin"`
	// AccessPolicy is a policy id, "" for none.
	AccessPolicy string `form:"accessPolicy"`
}

// Member changes a member's role.
type Member struct {
	Admin        Checkbox `form:"admin"`
	Active       Checkbox `form:"active"`
	AccessPolicy string   `form:"accessPolicy"`
}
