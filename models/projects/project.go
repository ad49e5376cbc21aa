// Package projects holds the project row and its settings: names and
// descriptions, the strict-mode and reference-check flags, features, the
// super-admin flag, and the rules a settings save follows.
package projects

import (
	"enclave/models/kit"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
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
	Features                   kit.StringList
	DefaultPatientAccessPolicy *string
	OwnerID                    *string
	// Version increases on every settings save; it guards against one admin
	// silently overwriting another's change.
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	// DeletedAt is set while the project is deleted, waiting for its
	// expunge (see models.Tenant.DeleteProject). Being a gorm.DeletedAt,
	// it hides the project from every GORM query on Project unless the
	// query says Unscoped: the ones that must see deleted projects say so.
	DeletedAt gorm.DeletedAt
	// DeletedBy is the user who deleted it; nil when live or when that
	// account is gone.
	DeletedBy *string
}

// Deleted reports whether the project is deleted, waiting for its expunge.
func (p Project) Deleted() bool { return p.DeletedAt.Valid }

// NewProject is what creating a project asks for.
type NewProject struct {
	Name        string
	Description string
}

// Validate checks the fields and reports every problem at once.
func (n *NewProject) Validate() error {
	v := &kit.ValidationError{}
	n.Name, n.Description = checkNameAndDescription(v, "projectName", n.Name, n.Description)
	return v.Err()
}

// checkNameAndDescription normalises a project's name (see NormalizeName),
// trims its description and records what is wrong with them, the name
// under nameField.
func checkNameAndDescription(v *kit.ValidationError, nameField, name, description string) (string, string) {
	name = kit.CheckName(v, nameField, "Project name", name, MaxProjectNameLength)
	description = strings.TrimSpace(description)
	if utf8.RuneCountInString(description) > 2000 {
		v.Add("description", "Description must be at most 2000 characters.")
	}
	return name, description
}
