package accounts

import (
	"context"
	"enclave/models/kit"
	"enclave/models/mail"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// TokenPurpose says what a one-time account link does.
type TokenPurpose string

const (
	// PurposeVerify proves that the account's owner receives mail at an
	// address; opening it verifies (or changes to) that address.
	PurposeVerify TokenPurpose = "verify"
	// PurposeReset lets the owner of the address choose a new password.
	PurposeReset TokenPurpose = "reset"
)

// How long account links stay valid.
const (
	VerifyTTL = 48 * time.Hour
	ResetTTL  = time.Hour
)

// ttl is how long a link of this purpose stays valid.
func (p TokenPurpose) ttl() time.Duration {
	if p == PurposeReset {
		return ResetTTL
	}
	return VerifyTTL
}

// AccountToken is a one-time link sent to an address. Only the SHA-256 of
// its token is stored.
type AccountToken struct {
	ID        string
	UserID    string
	Purpose   TokenPurpose
	Email     string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// ErrLinkInvalid means an account link is unknown, used, replaced by a newer
// one, or expired: the person asks for a new one.
var ErrLinkInvalid = errors.New("link not valid")

// IssueAccountToken creates a one-time link of this purpose for the user,
// sent to email, and voids the user's earlier unused link of the same
// purpose. It returns the raw token, which is not stored. mail, unless
// zero, is queued with the link (see mail.Letter).
func (s Store) IssueAccountToken(ctx context.Context, userID string, purpose TokenPurpose, email string, letter mail.Letter) (string, time.Time, error) {
	token, err := kit.NewToken()
	if err != nil {
		return "", time.Time{}, err
	}
	ts := kit.Now()
	row := AccountToken{ID: uuid.NewString(), UserID: userID, Purpose: purpose, Email: NormalizeEmail(email),
		TokenHash: kit.HashToken(token), ExpiresAt: ts.Add(purpose.ttl()), CreatedAt: ts}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).Delete(&AccountToken{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return letter.Post(ctx, tx, row.Email, token, row.ExpiresAt)
	})
	if err != nil && kit.IsUniqueViolation(err) {
		// Another request issued a link at the same moment; that one stands.
		return "", time.Time{}, &kit.ValidationError{Fields: map[string]string{"email": "A link was just sent. Check your email."}}
	}
	return token, row.ExpiresAt, err
}

// lookupToken finds the live link with this token and purpose.
func lookupToken(ctx context.Context, db *gorm.DB, token string, purpose TokenPurpose) (AccountToken, error) {
	if token == "" || len(token) > 100 {
		return AccountToken{}, ErrLinkInvalid
	}
	var row AccountToken
	err := db.WithContext(ctx).Where("token_hash = ? AND purpose = ?", kit.HashToken(token), purpose).Take(&row).Error
	if errors.Is(kit.NotFound(err), kit.ErrNotFound) {
		return AccountToken{}, ErrLinkInvalid
	}
	if err != nil {
		return AccountToken{}, err
	}
	if row.UsedAt != nil || !kit.Now().Before(row.ExpiresAt) {
		return AccountToken{}, ErrLinkInvalid
	}
	return row, nil
}

// useToken marks a link used inside tx; of two concurrent uses one gets
// ErrLinkInvalid.
func useToken(tx *gorm.DB, row AccountToken) error {
	ts := kit.Now()
	res := tx.Model(&AccountToken{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", row.ID, ts).Update("used_at", ts)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrLinkInvalid
	}
	return nil
}

// PeekAccountToken returns the account a live link belongs to and the
// address it was sent to, without using it (for the page that asks to
// confirm).
func (s Store) PeekAccountToken(ctx context.Context, token string, purpose TokenPurpose) (User, string, error) {
	row, err := lookupToken(ctx, s.db, token, purpose)
	if err != nil {
		return User{}, "", err
	}
	u, err := s.UserByID(ctx, row.UserID)
	if errors.Is(err, kit.ErrNotFound) {
		return User{}, "", ErrLinkInvalid
	}
	return u, row.Email, err
}

const emailTakenOther = "Another account uses this email address."

// VerifyEmail uses a verification link: the account's email becomes the
// address the link was sent to, verified. A link to an address that another
// account took in the meantime is refused with a kit.ValidationError.
func (s Store) VerifyEmail(ctx context.Context, token string) (User, error) {
	var u User
	defer kit.BumpAuthEpoch()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lookupToken(ctx, tx, token, PurposeVerify)
		if err != nil {
			return err
		}
		if err := useToken(tx, row); err != nil {
			return err
		}
		ts := kit.Now()
		res := tx.Model(&User{}).Where("id = ?", row.UserID).
			Updates(map[string]any{"email": row.Email, "email_verified_at": ts, "updated_at": ts})
		if res.Error != nil {
			if kit.IsUniqueViolation(res.Error) {
				return &kit.ValidationError{Fields: map[string]string{"email": emailTakenOther}}
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLinkInvalid
		}
		return tx.Where("id = ?", row.UserID).Take(&u).Error
	})
	return u, err
}

// EmailProblem says what is wrong with an email address as typed (it is
// normalised first), or "" when nothing is: for forms that take an address
// without storing it, like the one that asks for a password-reset link.
func EmailProblem(email string) string {
	v := &kit.ValidationError{}
	CheckEmail(v, NormalizeEmail(email))
	return v.Fields["email"]
}

// ResetPassword uses a password-reset link: the account gets the new
// password, every session of the account ends, and, since the link reached
// the account's address, that address counts as verified.
func (s Store) ResetPassword(ctx context.Context, token string, pw NewPassword) (User, error) {
	if _, err := lookupToken(ctx, s.db, token, PurposeReset); err != nil {
		return User{}, err
	}
	if err := pw.Validate(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(pw.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	defer kit.BumpAuthEpoch()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lookupToken(ctx, tx, token, PurposeReset)
		if err != nil {
			return err
		}
		if err := useToken(tx, row); err != nil {
			return err
		}
		if err := tx.Where("id = ?", row.UserID).Take(&u).Error; err != nil {
			return kit.NotFound(err)
		}
		if u.Email != row.Email {
			// The account moved to another address since: the old one no
			// longer speaks for it.
			return ErrLinkInvalid
		}
		ts := kit.Now()
		set := map[string]any{"password_hash": hash, "must_change_password": false, "updated_at": ts}
		if u.EmailVerifiedAt == nil {
			set["email_verified_at"] = ts
			u.EmailVerifiedAt = &ts
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(set).Error; err != nil {
			return err
		}
		u.PasswordHash = hash
		return endSessionsAndResets(tx, u.ID, "")
	})
	return u, err
}

// endSessionsAndResets signs the user out everywhere but the session keyed
// keepKey, and voids their unused password-reset links: after a password
// change, neither an old session nor an old link still opens the account.
func endSessionsAndResets(tx *gorm.DB, userID, keepKey string) error {
	if err := tx.Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, PurposeReset).Delete(&AccountToken{}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ? AND id <> ?", userID, keepKey).Delete(&Session{}).Error
}

// SetPassword gives the account with this email a new password and ends its
// sessions: the operator's way in (enclave users set-password).
func (s Store) SetPassword(ctx context.Context, email, password string) (User, error) {
	if msg := PasswordProblem(password); msg != "" {
		return User{}, &kit.ValidationError{Fields: map[string]string{"password": msg}}
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	defer kit.BumpAuthEpoch()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"password_hash": hash, "updated_at": kit.Now()}).Error; err != nil {
			return err
		}
		return endSessionsAndResets(tx, u.ID, "")
	})
	u.PasswordHash = hash
	return u, err
}

// ErrWrongPassword means the current password given to confirm a change is
// not the account's.
var ErrWrongPassword = errors.New("current password is incorrect")

// ChangePassword replaces the user's password after checking the current
// one, and ends every other session of the account (keepToken is the
// session making the change).
func (s Store) ChangePassword(ctx context.Context, userID, current string, pw NewPassword, keepToken string) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.CheckPassword(current) {
		return &kit.ValidationError{Fields: map[string]string{"current": "Your current password is incorrect."}}
	}
	if err := pw.Validate(); err != nil {
		return err
	}
	hash, err := HashPassword(pw.Password)
	if err != nil {
		return err
	}
	defer kit.BumpAuthEpoch()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"password_hash": hash, "must_change_password": false, "updated_at": kit.Now()}).Error; err != nil {
			return err
		}
		return endSessionsAndResets(tx, u.ID, sessionKey(keepToken))
	})
}

// UpdateName changes the user's first and last name.
func (s Store) UpdateName(ctx context.Context, userID, first, last string) (User, error) {
	v := &kit.ValidationError{}
	first = kit.CheckName(v, "firstName", "First name", first, maxPersonName)
	last = kit.CheckName(v, "lastName", "Last name", last, maxPersonName)
	if err := v.Err(); err != nil {
		return User{}, err
	}
	defer kit.BumpAuthEpoch()
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"first_name": first, "last_name": last, "updated_at": kit.Now()})
	if res.Error != nil {
		return User{}, res.Error
	}
	if res.RowsAffected == 0 {
		return User{}, kit.ErrNotFound
	}
	return s.UserByID(ctx, userID)
}

// RequestEmailChange checks the current password and the new address and
// issues a verification link for it: the account's email changes only when
// the link is opened. It returns the raw token; mail, unless zero, is
// queued with the link (see mail.Letter).
func (s Store) RequestEmailChange(ctx context.Context, userID, current, email string, letter mail.Letter) (string, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return "", err
	}
	v := &kit.ValidationError{}
	email = NormalizeEmail(email)
	CheckEmail(v, email)
	if !u.CheckPassword(current) {
		v.Add("current", "Your current password is incorrect.")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if email == u.Email && u.Verified() {
		return "", &kit.ValidationError{Fields: map[string]string{"email": "This is already your verified email address."}}
	}
	if other, err := s.UserByEmail(ctx, email); err == nil && other.ID != u.ID {
		return "", &kit.ValidationError{Fields: map[string]string{"email": emailTakenOther}}
	} else if err != nil && !errors.Is(err, kit.ErrNotFound) {
		return "", err
	}
	token, _, err := s.IssueAccountToken(ctx, u.ID, PurposeVerify, email, letter)
	return token, err
}

// SessionInfo is one live session of a user, as the account page lists it.
type SessionInfo struct {
	// ID is the session's row key (the SHA-256 of its token), which names it
	// to its owner without revealing the token.
	ID        string
	IP        string
	UserAgent string
	CreatedAt time.Time
	LastSeen  time.Time
	// Current is the session of the request asking.
	Current bool
}

// UserSessions lists the user's live sessions, most recently used first;
// currentToken marks the asking one.
func (s Store) UserSessions(ctx context.Context, userID, currentToken string) ([]SessionInfo, error) {
	var rows []Session
	err := s.db.WithContext(ctx).Where("user_id = ? AND expires_at > ?", userID, kit.Now()).
		Order("COALESCE(last_seen_at, created_at) DESC, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	cur := sessionKey(currentToken)
	out := make([]SessionInfo, len(rows))
	for i, r := range rows {
		seen := r.CreatedAt
		if r.LastSeenAt != nil {
			seen = *r.LastSeenAt
		}
		out[i] = SessionInfo{ID: r.ID, IP: r.IP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt, LastSeen: seen, Current: r.ID == cur}
	}
	return out, nil
}

// EndUserSession ends one of the user's sessions by its ID; another user's
// session, or one that is gone, is kit.ErrNotFound.
func (s Store) EndUserSession(ctx context.Context, userID, sessionID string) error {
	defer kit.BumpAuthEpoch()
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", sessionID, userID).Delete(&Session{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return kit.ErrNotFound
	}
	return nil
}
