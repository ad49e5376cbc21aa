package resources

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/kit"
	"fmt"

	"github.com/google/uuid"
)

// ProfileType is the resource type of people's membership profiles.
const ProfileType = "Practitioner"

// PatientProfileType is the resource type of patients' membership profiles
// (see members.Roster.InsertPatientMembership).
const PatientProfileType = "Patient"

// practitionerFor is the profile resource of a user: their name and email.
func practitionerFor(u accounts.User) map[string]any {
	return personFor(ProfileType, u, "work")
}

// personFor is a profile resource of type typ for a user: their name, and
// their email with the given use.
func personFor(typ string, u accounts.User, use string) map[string]any {
	name := map[string]any{}
	if u.FirstName != "" {
		name["given"] = []any{u.FirstName}
	}
	if u.LastName != "" {
		name["family"] = u.LastName
	}
	res := map[string]any{"resourceType": typ}
	if len(name) > 0 {
		res["name"] = []any{name}
	}
	if u.Email != "" {
		res["telecom"] = []any{map[string]any{"system": "email", "value": u.Email, "use": use}}
	}
	return res
}

// InsertProfile stores version 1 of a Practitioner for u, with its history
// and search index rows, and returns its id.
func (t Store) InsertProfile(ctx context.Context, u accounts.User) (string, error) {
	return t.insertProfile(ctx, practitionerFor(u))
}

// InsertPatientProfile stores version 1 of a Patient for u: their name,
// email and birthDate (YYYY-MM-DD, or "" for none). It returns its id.
func (t Store) InsertPatientProfile(ctx context.Context, u accounts.User, birthDate string) (string, error) {
	res := personFor(PatientProfileType, u, "home")
	if birthDate != "" {
		res["birthDate"] = birthDate
	}
	return t.insertProfile(ctx, res)
}

// insertProfile stores version 1 of the profile resource res, with its
// history and search index rows, and returns its id.
func (t Store) insertProfile(ctx context.Context, res map[string]any) (string, error) {
	typ := res["resourceType"].(string)
	tx := t.db.WithContext(ctx)
	if kit.DialectOf(t.db) == kit.Postgres {
		// Row-level security checks new rows against the transaction's project.
		if err := tx.Exec("SELECT set_config('enclave.project_id', ?, true)", t.projectID).Error; err != nil {
			return "", err
		}
	}
	id := uuid.NewString()
	at := resourceTime()
	content, err := t.stamp(res, id, 1, at)
	if err != nil {
		return "", err
	}
	r := Resource{Type: typ, ID: id, VersionID: "1", LastUpdated: at, JSON: content}
	if err := tx.Exec(`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
		VALUES (?, ?, ?, 1, ?, FALSE, ?)`, t.projectID, typ, id, at, string(content)).Error; err != nil {
		return "", err
	}
	return id, t.writeVersion(tx, r, 1, res)
}

// checkProfileWrite refuses a member's change to someone else's membership
// profile: only the person it describes and the project's admins may change
// or delete it.
func (t Store) checkProfileWrite(ctx context.Context, resourceType, id string) error {
	if resourceType != ProfileType || t.member == nil || t.member.Admin {
		return nil
	}
	var owners []string
	err := t.scoped(ctx).Table("project_memberships").Where("profile_type = ? AND profile_id = ?", ProfileType, id).Pluck("id", &owners).Error
	if err != nil {
		return err
	}
	for _, owner := range owners {
		if owner != t.member.MembershipID {
			return fmt.Errorf("%w: this %s is another member's profile; only they and the project's admins can change it", kit.ErrForbidden, ProfileType)
		}
	}
	return nil
}
