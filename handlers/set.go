package handlers

// Set groups the feature handlers the router wires.
type Set struct {
	Auth      *Auth
	Account   *Account
	Passwords *Passwords
	Projects  *Projects
	Join      *Join
	Settings  *Settings
	Policies  *Policies
	Audit     *Audit
	Members   *Members
	Invites   *Invites
	Verify    *Verify
	Secrets   *Secrets
	Clients   *Clients
	Admin     *Admin
	Resources *Resources
	FHIR      *FHIR
	OAuth     *OAuth
	Logins    *Logins
	AdminAPI  *AdminAPI
	// ProjectOps: the super admins' $clone and $expunge.
	ProjectOps *ProjectOps
	// Ops: the dashboard's clone, expunge and global audit log.
	Ops *Ops
	// Compare: compare two projects and promote items between them.
	Compare *Compare
	// Deletion: a project admin's deletion of their project, and the
	// super admins' list of deleted projects and restore.
	Deletion *Deletion
}
