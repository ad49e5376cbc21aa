package models

import (
	"enclave/models/kit"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxProjectNameLength bounds a project's name, in characters.
const MaxProjectNameLength = 200

// Project is an isolated container of FHIR resources with its own members,
// settings and secrets. Its settings and their defaults follow Medplum's
// Project resource.
type Project struct {
	ID                         string
	Name                       string
	Description                string
	SuperAdmin                 bool
	StrictMode                 bool
	CheckReferencesOnWrite     bool
	Features                   StringList
	DefaultPatientAccessPolicy *string
	OwnerID                    *string
	// Version increases on every settings save; it guards against one admin
	// silently overwriting another's change.
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewProject is what creating a project asks for.
type NewProject struct {
	Name        string
	Description string
}

// Validate checks the fields and reports every problem at once.
func (n *NewProject) Validate() error {
	v := &ValidationError{}
	n.Name, n.Description = checkNameAndDescription(v, "projectName", n.Name, n.Description)
	return v.Err()
}

// checkNameAndDescription normalises a project's name (see NormalizeName),
// trims its description and records what is wrong with them, the name
// under nameField.
func checkNameAndDescription(v *ValidationError, nameField, name, description string) (string, string) {
	name = kit.CheckName(v, nameField, "Project name", name, MaxProjectNameLength)
	description = strings.TrimSpace(description)
	if utf8.RuneCountInString(description) > 2000 {
		v.Add("description", "Description must be at most 2000 characters.")
	}
	return name, description
}

// ProjectMembership makes a user a member (and maybe an admin) of a project.
type ProjectMembership struct {
	ID        string
	ProjectID string
	UserID    string
	Admin     bool
	Active    bool
	// AccessPolicyID is the member's access policy in this project, if any.
	AccessPolicyID *string
	// InvitedBy is the user who invited this member, if any.
	InvitedBy *string
	// ProfileType and ProfileID name the member's profile resource in the
	// project (a Practitioner for people).
	ProfileType string
	ProfileID   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
