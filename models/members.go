package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// InviteTTL is how long an invite link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// ErrLastAdmin refuses a change that would leave a project without an active
// admin who can sign in.
var ErrLastAdmin = errors.New("the project must keep at least one active admin")

// Invite is one invite link. Only the SHA-256 of its token is stored.
type Invite struct {
	ID           string
	ProjectID    string
	UserID       string
	MembershipID string
	TokenHash    string
	ExpiresAt    time.Time
	UsedAt       *time.Time
	CreatedBy    *string
	CreatedAt    time.Time
}

// Invitation is what an admin submits to invite someone. The names are
// needed only when the email has no account yet.
type Invitation struct {
	Email          string
	FirstName      string
	LastName       string
	Admin          bool
	AccessPolicyID *string
}

// Validate trims the fields and checks the email and, when given, the names.
func (in *Invitation) Validate() error {
	v := &ValidationError{}
	in.Email = NormalizeEmail(in.Email)
	in.FirstName = strings.TrimSpace(in.FirstName)
	in.LastName = strings.TrimSpace(in.LastName)
	checkEmail(v, in.Email)
	if in.FirstName != "" {
		checkName(v, "firstName", "First name", in.FirstName)
	}
	if in.LastName != "" {
		checkName(v, "lastName", "Last name", in.LastName)
	}
	return v.Err()
}

func checkEmail(v *ValidationError, email string) {
	if email == "" {
		v.Add("email", "Email is required.")
	} else if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		v.Add("email", "Enter a valid email address, like name@example.org.")
	}
}

// Invited is the outcome of an invitation.
type Invited struct {
	Member Member
	// NewUser is true when the invitation created the account.
	NewUser bool
	// Reissued is true when the person was already a member who had not
	// accepted yet: they got a new link and the old one stopped working.
	Reissued bool
	// Token is the one-time token of the invite link, set when the person has
	// no password yet. It is not stored and cannot be shown again.
	Token     string
	ExpiresAt time.Time
}

// Invite makes the person with in.Email a member. An existing account gets an
// active membership at once; an unknown email gets a new account without a
// password. Whoever has no password yet also gets an invite link; inviting a
// member who has not accepted yet replaces their link.
func (t Tenant) Invite(ctx context.Context, a Actor, in Invitation) (Invited, error) {
	if err := in.Validate(); err != nil {
		return Invited{}, err
	}
	var out Invited
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.checkPolicy(ctx, in.AccessPolicyID); err != nil {
			return err
		}
		sys := System{db: tx.db}
		u, err := sys.UserByEmail(ctx, in.Email)
		if errors.Is(err, ErrNotFound) {
			u, err = sys.CreateInvitedUser(ctx, in.FirstName, in.LastName, in.Email)
			out.NewUser = true
		}
		if err != nil {
			return err
		}
		var m ProjectMembership
		err = tx.scoped(ctx).Where("user_id = ?", u.ID).Take(&m).Error
		switch {
		case err == nil && m.Active && u.PasswordHash == "":
			out.Reissued = true
		case err == nil:
			msg := "This person is already a member of the project."
			if !m.Active {
				msg = "This person is already a member, but inactive: edit their membership to reactivate it."
			}
			return &ValidationError{Fields: map[string]string{"email": msg}}
		case errors.Is(notFound(err), ErrNotFound):
			if m, err = tx.insertMembership(ctx, a, u.ID, in.Admin, in.AccessPolicyID); err != nil {
				return err
			}
		default:
			return err
		}
		out.Member = Member{Membership: m, User: u}
		if u.PasswordHash == "" {
			if out.Token, out.ExpiresAt, err = tx.issueInvite(ctx, a, m); err != nil {
				return err
			}
			return tx.record(ctx, a, ActionMemberInvited, u.Email, map[string]any{"membership": m.ID,
				"admin": m.Admin, "newUser": out.NewUser, "reissued": out.Reissued, "expiresAt": out.ExpiresAt})
		}
		return tx.record(ctx, a, ActionMemberAdded, u.Email, map[string]any{"membership": m.ID, "admin": m.Admin})
	})
	return out, err
}

// CreateInvitedUser creates a server-wide account with no password, which
// cannot sign in until the person accepts an invite and chooses one.
func (s System) CreateInvitedUser(ctx context.Context, firstName, lastName, email string) (User, error) {
	v := &ValidationError{}
	firstName, lastName, email = strings.TrimSpace(firstName), strings.TrimSpace(lastName), NormalizeEmail(email)
	checkName(v, "firstName", "First name", firstName)
	checkName(v, "lastName", "Last name", lastName)
	checkEmail(v, email)
	if err := v.Err(); err != nil {
		return User{}, err
	}
	ts := now()
	u := User{ID: uuid.NewString(), FirstName: firstName, LastName: lastName, Email: email, CreatedAt: ts, UpdatedAt: ts}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if isUniqueViolation(err) {
			return User{}, &ValidationError{Fields: map[string]string{"email": "Someone just created an account with this email. Try again."}}
		}
		return User{}, err
	}
	return u, nil
}

// checkPolicy refuses a policy id that is not one of this project's.
func (t Tenant) checkPolicy(ctx context.Context, id *string) error {
	if id == nil {
		return nil
	}
	if _, err := uuid.Parse(*id); err == nil {
		if _, err = t.AccessPolicy(ctx, *id); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return &ValidationError{Fields: map[string]string{"accessPolicy": "Choose one of this project's access policies."}}
}

// insertMembership adds an active membership with its profile resource,
// recording who invited it. Call it inside a transaction, and move
// AuthEpoch again once that is committed.
func (t Tenant) insertMembership(ctx context.Context, a Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	bumpAuthEpoch()
	ts := now()
	m := ProjectMembership{ID: uuid.NewString(), ProjectID: t.projectID, UserID: userID, Admin: admin, Active: true,
		AccessPolicyID: policyID, CreatedAt: ts, UpdatedAt: ts}
	if a.UserID != "" {
		inviter := a.UserID
		m.InvitedBy = &inviter
	}
	if err := t.attachProfile(ctx, &m); err != nil {
		return m, err
	}
	if err := t.db.WithContext(ctx).Create(&m).Error; err != nil {
		if isUniqueViolation(err) {
			return m, &ValidationError{Fields: map[string]string{"email": "This person is already a member of the project."}}
		}
		return m, err
	}
	return m, nil
}

// issueInvite voids the membership's unused links and creates a new one.
func (t Tenant) issueInvite(ctx context.Context, a Actor, m ProjectMembership) (string, time.Time, error) {
	// Two admins re-inviting at once: the second waits here for the first
	// to commit, then replaces its link (SQLite's writers queue anyway).
	if DialectOf(t.db) == Postgres {
		var locked ProjectMembership
		if err := t.scoped(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Where("id = ?", m.ID).Take(&locked).Error; err != nil {
			return "", time.Time{}, err
		}
	}
	if err := t.scoped(ctx).Where("membership_id = ? AND used_at IS NULL", m.ID).Delete(&Invite{}).Error; err != nil {
		return "", time.Time{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	ts := now()
	inv := Invite{ID: uuid.NewString(), ProjectID: t.projectID, UserID: m.UserID, MembershipID: m.ID,
		TokenHash: hashToken(token), ExpiresAt: ts.Add(InviteTTL), CreatedAt: ts}
	if a.UserID != "" {
		by := a.UserID
		inv.CreatedBy = &by
	}
	return token, inv.ExpiresAt, t.db.WithContext(ctx).Create(&inv).Error
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Member looks up one of the project's memberships by id; another project's
// id is ErrNotFound.
func (t Tenant) Member(ctx context.Context, membershipID string) (Member, error) {
	if _, err := uuid.Parse(membershipID); err != nil {
		return Member{}, ErrNotFound
	}
	var m ProjectMembership
	if err := t.scoped(ctx).Where("id = ?", membershipID).Take(&m).Error; err != nil {
		return Member{}, notFound(err)
	}
	out := Member{Membership: m}
	if err := t.db.WithContext(ctx).Where("id = ?", m.UserID).Take(&out.User).Error; err != nil {
		return Member{}, err
	}
	if m.InvitedBy != nil {
		if err := t.db.WithContext(ctx).Where("id = ?", *m.InvitedBy).Take(&out.Inviter).Error; notFound(err) != ErrNotFound && err != nil {
			return Member{}, err
		}
	}
	return out, nil
}

// MemberUpdate is an admin's edit of a membership.
type MemberUpdate struct {
	Admin          bool
	Active         bool
	AccessPolicyID *string
}

// UpdateMember changes a membership's admin flag, active flag and access
// policy. It refuses with ErrLastAdmin to demote or deactivate the last
// active admin; the check and the change run under a lock on the project, so
// two concurrent requests cannot both pass it.
func (t Tenant) UpdateMember(ctx context.Context, a Actor, membershipID string, u MemberUpdate) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.lockProject(ctx); err != nil {
			return err
		}
		before, err := tx.Member(ctx, membershipID)
		if err != nil {
			return err
		}
		if err := tx.checkPolicy(ctx, u.AccessPolicyID); err != nil {
			return err
		}
		if !u.Admin || !u.Active {
			if err := tx.keepAnAdmin(ctx, before); err != nil {
				return err
			}
		}
		m := before.Membership
		m.Admin, m.Active, m.AccessPolicyID, m.UpdatedAt = u.Admin, u.Active, u.AccessPolicyID, now()
		if err := tx.scoped(ctx).Model(&ProjectMembership{}).Where("id = ?", m.ID).
			Updates(map[string]any{"admin": m.Admin, "active": m.Active, "access_policy_id": m.AccessPolicyID, "updated_at": m.UpdatedAt}).Error; err != nil {
			return err
		}
		out = before
		out.Membership = m
		details := map[string]any{"membership": m.ID}
		b := before.Membership
		if b.Admin != m.Admin {
			details["admin"] = Change{b.Admin, m.Admin}
		}
		if b.Active != m.Active {
			details["active"] = Change{b.Active, m.Active}
		}
		if deref(b.AccessPolicyID) != deref(m.AccessPolicyID) {
			details["accessPolicy"] = Change{b.AccessPolicyID, m.AccessPolicyID}
		}
		return tx.record(ctx, a, ActionMemberUpdated, before.User.Email, details)
	})
	return out, err
}

// RemoveMember deletes a membership (and its invite links) and returns what
// was removed. The last active admin cannot be removed (ErrLastAdmin). The
// account itself stays: it may belong to other projects.
func (t Tenant) RemoveMember(ctx context.Context, a Actor, membershipID string) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.lockProject(ctx); err != nil {
			return err
		}
		m, err := tx.Member(ctx, membershipID)
		if err != nil {
			return err
		}
		if err := tx.keepAnAdmin(ctx, m); err != nil {
			return err
		}
		if err := tx.scoped(ctx).Where("membership_id = ?", m.Membership.ID).Delete(&Invite{}).Error; err != nil {
			return err
		}
		if err := tx.scoped(ctx).Where("id = ?", m.Membership.ID).Delete(&ProjectMembership{}).Error; err != nil {
			return err
		}
		out = m
		return tx.record(ctx, a, ActionMemberRemoved, m.User.Email, map[string]any{"membership": m.Membership.ID, "admin": m.Membership.Admin})
	})
	return out, err
}

// keepAnAdmin returns ErrLastAdmin when m is an active admin who can sign in
// and no other such admin exists. Call it under lockProject.
func (t Tenant) keepAnAdmin(ctx context.Context, m Member) error {
	if !m.Membership.Admin || !m.Membership.Active || m.User.PasswordHash == "" {
		return nil
	}
	var n int64
	err := t.db.WithContext(ctx).Table("project_memberships AS m").
		Joins("JOIN users AS u ON u.id = m.user_id").
		Where("m.project_id = ? AND m.admin = ? AND m.active = ? AND u.password_hash <> '' AND m.id <> ?",
			t.projectID, true, true, m.Membership.ID).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// lockProject takes a row lock on the project until the transaction ends, so
// that membership changes of one project run one after another. SQLite
// transactions already hold the database's write lock from their start.
func (t Tenant) lockProject(ctx context.Context) error {
	if DialectOf(t.db) != Postgres {
		return nil
	}
	var p Project
	return t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
		Select("id").Where("id = ?", t.projectID).Take(&p).Error
}

// ErrInviteUsed and ErrInviteExpired explain why a known invite link no
// longer works.
var (
	ErrInviteUsed    = errors.New("invite link already used")
	ErrInviteExpired = errors.New("invite link expired")
)

// PendingInvite is a valid invite link as its accept page shows it.
type PendingInvite struct {
	ProjectID   string
	ProjectName string
	User        User
	ExpiresAt   time.Time
	invite      Invite
}

// HasPassword reports whether the invited person already has a password (they
// accepted another invite, or registered, since): they just sign in.
func (p PendingInvite) HasPassword() bool { return p.User.PasswordHash != "" }

// InviteByToken finds the invite link with this token. A token that was never
// issued, was replaced by a newer one, or whose membership is gone or
// inactive is ErrNotFound; a used one ErrInviteUsed; an old one
// ErrInviteExpired.
func (s System) InviteByToken(ctx context.Context, token string) (PendingInvite, error) {
	if token == "" || len(token) > 100 {
		return PendingInvite{}, ErrNotFound
	}
	var inv Invite
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&inv).Error; err != nil {
		return PendingInvite{}, notFound(err)
	}
	var m ProjectMembership
	if err := s.db.WithContext(ctx).Where("id = ? AND active = ?", inv.MembershipID, true).Take(&m).Error; err != nil {
		return PendingInvite{}, notFound(err)
	}
	switch {
	case inv.UsedAt != nil:
		return PendingInvite{}, ErrInviteUsed
	case !now().Before(inv.ExpiresAt):
		return PendingInvite{}, ErrInviteExpired
	}
	out := PendingInvite{ProjectID: inv.ProjectID, ExpiresAt: inv.ExpiresAt, invite: inv}
	var p Project
	if err := s.db.WithContext(ctx).Where("id = ?", inv.ProjectID).Take(&p).Error; err != nil {
		return PendingInvite{}, notFound(err)
	}
	out.ProjectName = p.Name
	if err := s.db.WithContext(ctx).Where("id = ?", inv.UserID).Take(&out.User).Error; err != nil {
		return PendingInvite{}, notFound(err)
	}
	return out, nil
}

// NewPassword is a password chosen in a form, typed twice.
type NewPassword struct {
	Password string
	Confirm  string
}

// Validate checks the length and that both fields match.
func (n NewPassword) Validate() error {
	v := &ValidationError{}
	if msg := PasswordProblem(n.Password); msg != "" {
		v.Add("password", msg)
	} else if n.Password != n.Confirm {
		v.Add("confirm", "The two passwords do not match.")
	}
	return v.Err()
}

// ErrHasPassword means the invited person already has a password; an invite
// link never replaces one.
var ErrHasPassword = errors.New("account already has a password")

// AcceptInvite sets the invited person's password from a valid link and
// marks the link used, in one transaction, and returns the pending invite
// that was accepted. A link works once: of two concurrent uses, one gets
// ErrInviteUsed.
func (s System) AcceptInvite(ctx context.Context, token string, pw NewPassword, ip string) (PendingInvite, error) {
	p, err := s.InviteByToken(ctx, token)
	if err != nil {
		return p, err
	}
	if p.HasPassword() {
		return p, ErrHasPassword
	}
	if err := pw.Validate(); err != nil {
		return p, err
	}
	hash, err := HashPassword(pw.Password)
	if err != nil {
		return p, err
	}
	defer bumpAuthEpoch() // the user's password changed
	err = s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		ts := now()
		res := db.Model(&Invite{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", p.invite.ID, ts).Update("used_at", ts)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrInviteUsed
		}
		res = db.Model(&User{}).Where("id = ? AND password_hash = ''", p.User.ID).
			Updates(map[string]any{"password_hash": hash, "updated_at": ts})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrHasPassword
		}
		a := Actor{UserID: p.User.ID, Email: p.User.Email, IP: ip}
		return ForProject(db, p.ProjectID).record(ctx, a, ActionInviteAccepted, p.User.Email, map[string]any{"membership": p.invite.MembershipID})
	})
	if err == nil {
		p.User.PasswordHash = hash
	}
	return p, err
}
