package models

import (
	"context"
	"time"

	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"

	"gorm.io/gorm"
)

// Open patient registration, as Medplum's /auth/newpatient: a project with
// a defaultPatientAccessPolicy lets anyone sign up as one of its patients.

// PatientSignUp is the open registration form: the account's name, email
// and password (ignored for a signed-in user, who joins with their own
// account) and the Patient's birth date (YYYY-MM-DD, optional).
type PatientSignUp struct {
	FirstName string
	LastName  string
	Email     string
	Password  string
	BirthDate string
}

// checkBirthDate records what is wrong with a birth date under "birthDate".
func checkBirthDate(v *kit.ValidationError, s string) {
	if s == "" {
		return
	}
	d, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		v.Add("birthDate", "Enter a date like 1980-04-23.")
	case d.After(kit.Now()):
		v.Add("birthDate", "A birth date cannot be in the future.")
	case d.Year() < 1850:
		v.Add("birthDate", "Enter a birth date after 1850.")
	}
}

// OpenRegistration is the project whose patient registration is open:
// ErrNotFound when it does not exist or has no defaultPatientAccessPolicy,
// the two alike so that the page reveals nothing of other projects.
func (s System) OpenRegistration(ctx context.Context, projectID string) (projects.Project, error) {
	if !kit.IsUUID(projectID) {
		return projects.Project{}, kit.ErrNotFound
	}
	var p projects.Project
	err := s.db.WithContext(ctx).Where("id = ? AND default_patient_access_policy IS NOT NULL", projectID).Take(&p).Error
	return p, kit.NotFound(err)
}

// joinFault, when set (tests only), fails a registration after its Patient
// is stored, to show that nothing of it is left.
var joinFault func() error

// JoinAsPatient registers a patient of projectID in one transaction: the
// account (unless signedIn is given: a verified user who joins with their
// own account), their Patient resource, and a membership with that Patient
// as its profile and the project's defaultPatientAccessPolicy. It returns
// the user. A project without open registration is ErrNotFound; an email
// that has an account is refused as registration refuses it; a signed-in
// user must have verified their email and not be a member already.
func (s System) JoinAsPatient(ctx context.Context, projectID string, signedIn *accounts.User, in PatientSignUp, ip string) (accounts.User, error) {
	v := &kit.ValidationError{}
	checkBirthDate(v, in.BirthDate)
	n := accounts.NewUser{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Password: in.Password}
	if signedIn == nil {
		if err := n.Validate(); err != nil {
			for k, msg := range kit.FieldErrors(err) {
				v.Add(k, msg)
			}
		}
	} else if signedIn.EmailVerifiedAt == nil {
		v.Add("form", "Verify your email address first: open the link we sent you, then join.")
	}
	if err := v.Err(); err != nil {
		return accounts.User{}, err
	}
	defer kit.BumpAuthEpoch()
	var u accounts.User
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		p, err := NewSystem(db).OpenRegistration(ctx, projectID)
		if err != nil {
			return err
		}
		t := ForProject(db, p.ID)
		if err := t.bound().LockProject(ctx); err != nil {
			return err
		}
		if signedIn != nil {
			u = *signedIn
			var n int64
			if err := t.scoped(ctx).Model(&members.ProjectMembership{}).Where("user_id = ?", u.ID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return &kit.ValidationError{Fields: map[string]string{"form": "You are already a member of this project."}}
			}
		} else if u, err = accounts.New(db).CreateUser(ctx, n); err != nil {
			return err
		}
		m, err := t.InsertPatientMembership(ctx, u, *p.DefaultPatientAccessPolicy, in.BirthDate)
		if err != nil {
			return err
		}
		if joinFault != nil {
			if err := joinFault(); err != nil {
				return err
			}
		}
		return audit.Record(ctx, t.bound(), audit.Actor{UserID: u.ID, Email: u.Email, IP: ip}, audit.ActionPatientJoined, u.Email,
			map[string]any{"membership": m.ID, "accessPolicy": *p.DefaultPatientAccessPolicy, "profile": resources.PatientProfileType + "/" + *m.ProfileID})
	})
	if err != nil {
		return accounts.User{}, err
	}
	return u, nil
}
