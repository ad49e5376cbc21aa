// Package accounts holds the people who sign in: users and their passwords,
// one-time account links (verify an address, reset a password), sessions,
// and the throttle that slows down guessing. It is server-wide: an account
// belongs to no project.
package accounts

import (
	"context"
	"enclave/models/kit"
	"errors"
	"net/mail"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Store is the server-wide store of accounts.
type Store struct{ db *gorm.DB }

// New returns the accounts store of db.
func New(db *gorm.DB) Store { return Store{db: db} }

// emailTaken is the message for a registration with a known email.
const emailTaken = "An account with this email already exists. Sign in instead."

// CreateUser registers a server-wide user.
func (s Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	if err := n.Validate(); err != nil {
		return User{}, err
	}
	if _, err := s.UserByEmail(ctx, n.Email); err == nil {
		return User{}, &kit.ValidationError{Fields: map[string]string{"email": emailTaken}}
	} else if !errors.Is(err, kit.ErrNotFound) {
		return User{}, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return User{}, err
	}
	t := kit.Now()
	u := User{ID: uuid.NewString(), FirstName: n.FirstName, LastName: n.LastName, Email: n.Email,
		PasswordHash: hash, CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if kit.IsUniqueViolation(err) {
			return User{}, &kit.ValidationError{Fields: map[string]string{"email": emailTaken}}
		}
		return User{}, err
	}
	return u, nil
}

// EmailRegistered reports whether a server-wide user has this email.
func (s Store) EmailRegistered(ctx context.Context, email string) (bool, error) {
	_, err := s.UserByEmail(ctx, email)
	if errors.Is(err, kit.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// UserByEmail finds a server-wide user by email, case-insensitively.
func (s Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ? AND project_id IS NULL", NormalizeEmail(email)).Take(&u).Error
	return u, kit.NotFound(err)
}

// UserByID loads a user.
func (s Store) UserByID(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	return u, kit.NotFound(err)
}

// ErrBadCredentials is returned for any failed sign-in, without saying
// whether the email or the password was wrong.
var ErrBadCredentials = errors.New("email or password is incorrect")

// Authenticate checks an email and password.
func (s Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, kit.ErrNotFound) {
		burnPasswordCheck(password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	if !u.CheckPassword(password) {
		return User{}, ErrBadCredentials
	}
	if u.Deactivated() {
		return User{}, ErrDeactivated
	}
	return u, nil
}

// ErrDeactivated refuses the right password of an account a super admin
// deactivated. It is said only after the password matched, so it tells
// nothing to someone guessing.
var ErrDeactivated = errors.New("account deactivated")

// NewPassword is a password chosen in a form, typed twice.
type NewPassword struct {
	Password string
	Confirm  string
}

// Validate checks the length and that both fields match.
func (n NewPassword) Validate() error {
	v := &kit.ValidationError{}
	if msg := PasswordProblem(n.Password); msg != "" {
		v.Add("password", msg)
	} else if n.Password != n.Confirm {
		v.Add("confirm", "The two passwords do not match.")
	}
	return v.Err()
}

// CheckEmail records under "email" what is wrong with a normalised address.
func CheckEmail(v *kit.ValidationError, email string) {
	if email == "" {
		v.Add("email", "Email is required.")
	} else if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		v.Add("email", "Enter a valid email address, like name@example.org.")
	}
}
