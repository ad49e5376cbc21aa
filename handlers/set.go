package handlers

// Set groups the feature handlers the router wires.
type Set struct {
	Auth     *Auth
	Projects *Projects
	FHIR     *FHIR
}
