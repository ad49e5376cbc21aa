package accounts

import (
	"enclave/models/kit"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// maxPasswordBytes is bcrypt's input limit; longer passwords are refused
// rather than silently truncated.
const maxPasswordBytes = 72

// User is a person who can sign in. ProjectID is nil for server-wide users,
// whose email is unique across the server; a project-scoped user (a patient
// registered into one project) is unique per project and email.
type User struct {
	ID           string
	ProjectID    *string
	FirstName    string
	LastName     string
	Email        string
	PasswordHash string
	// EmailVerifiedAt is when the person proved they receive mail at Email
	// (a verification or password-reset link); nil until then. Invitations
	// attach only to verified accounts.
	EmailVerifiedAt *time.Time
	// DeactivatedAt is when a super admin deactivated the account: it
	// cannot sign in and every request of its counts as signed out. nil
	// while the account is active.
	DeactivatedAt *time.Time
	// MustChangePassword is set with a temporary password: until the
	// person chooses a new one, the console offers them nothing else.
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Deactivated reports whether a super admin deactivated the account. Every
// way a request resolves to a user checks it (models.System.ResolveCaller
// today; user access tokens must too).
func (u User) Deactivated() bool { return u.DeactivatedAt != nil }

// Verified reports whether the account's email address is verified.
func (u User) Verified() bool { return u.EmailVerifiedAt != nil }

// Name is the user's display name.
func (u User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// NewUser is what registration asks for.
type NewUser struct {
	FirstName string
	LastName  string
	Email     string
	Password  string
}

// NormalizeEmail trims and lower-cases an address, as emails are stored.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks the fields and reports every problem at once.
func (n *NewUser) Validate() error {
	v := &kit.ValidationError{}
	n.FirstName = kit.CheckName(v, "firstName", "First name", n.FirstName, maxPersonName)
	n.LastName = kit.CheckName(v, "lastName", "Last name", n.LastName, maxPersonName)
	n.Email = NormalizeEmail(n.Email)
	CheckEmail(v, n.Email)
	if msg := PasswordProblem(n.Password); msg != "" {
		v.Add("password", msg)
	}
	return v.Err()
}

// maxPersonName bounds a first or last name, in characters.
const maxPersonName = 100

// PasswordProblem returns why a password is refused, or "" when it is fine.
func PasswordProblem(p string) string {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return "Password must be at least 8 characters."
	case len(p) > maxPasswordBytes:
		return "Password must be at most 72 bytes."
	}
	return ""
}

// HashPassword hashes p with bcrypt.
func HashPassword(p string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(p), bcryptCost)
	return string(b), err
}

// bcryptCost is a variable so that tests can lower it.
var bcryptCost = bcrypt.DefaultCost

// SetFastPasswordHashingForTests lowers the hashing cost; tests only.
func SetFastPasswordHashingForTests() { bcryptCost = bcrypt.MinCost }

// CheckPassword reports whether p matches the user's hash. A user without a
// password (invited, not yet accepted) never matches.
func (u User) CheckPassword(p string) bool {
	if u.PasswordHash == "" {
		// As long as a real comparison: an account without a password
		// (invited, not yet accepted) must not be told apart by timing.
		burnPasswordCheck(p)
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(p)) == nil
}

// dummyHash is compared against when no user matches, so that a failed
// sign-in takes as long whether or not the email exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("enclave-timing-equaliser"), bcrypt.DefaultCost)

// burnPasswordCheck spends the time a real comparison would.
func burnPasswordCheck(p string) {
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(p))
}
