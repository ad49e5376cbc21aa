package handlers

// Set groups the feature handlers the router wires.
type Set struct {
	Auth      *Auth
	Projects  *Projects
	Settings  *Settings
	Policies  *Policies
	Audit     *Audit
	Members   *Members
	Invites   *Invites
	Secrets   *Secrets
	Resources *Resources
	FHIR      *FHIR
}
