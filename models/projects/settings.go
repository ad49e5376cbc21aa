package projects

import (
	"enclave/models/kit"
	"slices"
)

// ProjectFeatures are the feature codes of Medplum's Project resource (the
// required ValueSet project-feature). Only super admins may change them.
var ProjectFeatures = []string{
	"ai", "aws-comprehend", "aws-textract", "bots", "cron", "email", "google-auth-required",
	"graphql-introspection", "websocket-subscriptions", "transaction-bundles", "validate-terminology",
}

// SettingsUpdate is a settings form as submitted. Features and SuperAdmin
// are nil when the form did not carry them (project admins' forms do not).
type SettingsUpdate struct {
	Name                       string
	Description                string
	StrictMode                 bool
	ConfirmStrictOff           bool
	CheckReferencesOnWrite     bool
	DefaultPatientAccessPolicy *string
	Features                   *[]string
	SuperAdmin                 *bool
	// ConfirmName must be the project's current name for a change of
	// SuperAdmin to be saved.
	ConfirmName string
	// Version is the project version the form was rendered from.
	Version int
}

// SettingsChange is one field that a save changed, for the notice and the
// audit log.
type SettingsChange struct {
	Field  string
	Before any
	After  any
}

// ApplySettings validates u against the current project and returns the
// project as it would be saved. superAdmin says whether the actor may change
// features and the superAdmin flag (kit.ErrForbidden when not and they
// try); policyExists says whether an access policy id is one of the
// project's.
func ApplySettings(cur Project, u SettingsUpdate, superAdmin bool, policyExists func(id string) bool) (Project, error) {
	v := &kit.ValidationError{}
	next := cur
	next.Name, next.Description = checkNameAndDescription(v, "name", u.Name, u.Description)
	next.StrictMode = u.StrictMode
	if cur.StrictMode && !u.StrictMode && !u.ConfirmStrictOff {
		v.Add("strictMode", "Turning strict mode off stops validating resources against their FHIR definitions: "+
			"unknown elements, malformed values and missing required fields will be stored as sent. Confirm to turn it off.")
	}
	next.CheckReferencesOnWrite = u.CheckReferencesOnWrite
	next.DefaultPatientAccessPolicy = nil
	if u.DefaultPatientAccessPolicy != nil && *u.DefaultPatientAccessPolicy != "" {
		if !policyExists(*u.DefaultPatientAccessPolicy) {
			v.Add("defaultPatientAccessPolicy", "Choose one of this project's access policies, or none.")
		} else {
			id := *u.DefaultPatientAccessPolicy
			next.DefaultPatientAccessPolicy = &id
		}
	}
	if u.Features != nil {
		var fs []string
		for _, f := range *u.Features {
			if !slices.Contains(ProjectFeatures, f) {
				v.Add("features", "Unknown feature "+kit.Quote(f)+".")
				continue
			}
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
		slices.Sort(fs)
		next.Features = kit.StringList(fs)
	}
	if u.SuperAdmin != nil {
		next.SuperAdmin = *u.SuperAdmin
	}
	if !superAdmin && (!sameSet(cur.Features, next.Features) || cur.SuperAdmin != next.SuperAdmin) {
		return cur, kit.ErrForbidden
	}
	if cur.SuperAdmin != next.SuperAdmin && kit.NormalizeName(u.ConfirmName) != cur.Name {
		v.Add("superAdmin", "Changing who runs this server is serious: type this project's name, "+kit.Quote(cur.Name)+", to confirm.")
	}
	return next, v.Err()
}

// DiffSettings lists the fields that differ from a to b.
func DiffSettings(a, b Project) []SettingsChange {
	var out []SettingsChange
	add := func(field string, before, after any, same bool) {
		if !same {
			out = append(out, SettingsChange{Field: field, Before: before, After: after})
		}
	}
	add("name", a.Name, b.Name, a.Name == b.Name)
	add("description", a.Description, b.Description, a.Description == b.Description)
	add("strictMode", a.StrictMode, b.StrictMode, a.StrictMode == b.StrictMode)
	add("checkReferencesOnWrite", a.CheckReferencesOnWrite, b.CheckReferencesOnWrite, a.CheckReferencesOnWrite == b.CheckReferencesOnWrite)
	add("defaultPatientAccessPolicy", kit.Deref(a.DefaultPatientAccessPolicy), kit.Deref(b.DefaultPatientAccessPolicy),
		kit.Deref(a.DefaultPatientAccessPolicy) == kit.Deref(b.DefaultPatientAccessPolicy))
	add("features", []string(a.Features), []string(b.Features), sameSet(a.Features, b.Features))
	add("superAdmin", a.SuperAdmin, b.SuperAdmin, a.SuperAdmin == b.SuperAdmin)
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
