package models_test

import (
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// nameCases are free-text names as people type them (or as someone
// crafting a look-alike does): what is stored, or the start of the error.
var nameCases = []struct {
	name, in, stored, err string
}{
	{"plain", "Alpha", "Alpha", ""},
	{"trimmed, spaces collapsed", "  Alpha \t\n  Clinic  ", "Alpha Clinic", ""},
	{"no-break and ideographic spaces", "Alpha\u00a0\u3000Clinic", "Alpha Clinic", ""},
	{"decomposed accent becomes NFC", "Zo\u0065\u0301", "Zo\u00e9", ""},
	{"non-Latin script", "Клиника 東京", "Клиника 東京", ""},
	{"Persian with zero-width non-joiner", "می\u200cخواهم", "می\u200cخواهم", ""},
	{"emoji ZWJ sequence", "Team \U0001F469\u200d\U0001F4BB", "Team \U0001F469\u200d\U0001F4BB", ""},
	{"emoji with variation selector", "Heart \u2764\ufe0f", "Heart \u2764\ufe0f", ""},
	{"empty", "", "", "is required"},
	{"only white space", " \t\u00a0\u2003 ", "", "is required"},
	{"only zero-width spaces", "\u200b\u200b", "", "must not contain invisible or control characters (it holds U+200B)"},
	{"only zero-width joiners", "\u200d\u200c", "", "must contain at least one visible character"},
	{"only a Hangul filler", "\u3164", "", "must contain at least one visible character"},
	{"only a blank Braille pattern", "\u2800\u2800", "", "must contain at least one visible character"},
	{"only combining marks", "\u034f\ufe0f", "", "must contain at least one visible character"},
	{"right-to-left override", "Alpha\u202eahplA", "", "must not contain text-direction controls (it holds U+202E)"},
	{"left-to-right embedding", "\u202aAlpha", "", "must not contain text-direction controls (it holds U+202A)"},
	{"first-strong isolate", "Alpha\u2068x\u2069", "", "must not contain text-direction controls (it holds U+2068)"},
	{"pop directional isolate", "Alpha\u2069", "", "must not contain text-direction controls (it holds U+2069)"},
	{"zero-width space inside", "Al\u200bpha", "", "must not contain invisible or control characters (it holds U+200B)"},
	{"word joiner", "Al\u2060pha", "", "must not contain invisible or control characters (it holds U+2060)"},
	{"byte-order mark", "\ufeffAlpha", "", "must not contain invisible or control characters (it holds U+FEFF)"},
	{"soft hyphen", "Al\u00adpha", "", "must not contain invisible or control characters (it holds U+00AD)"},
	{"tag characters", "Alpha\U000E0041", "", "must not contain invisible or control characters (it holds U+E0041)"},
	{"a control character", "Al\x07pha", "", "must not contain invisible or control characters (it holds U+0007)"},
	{"a private-use character", "Alpha\ue000", "", "must not contain invisible or control characters (it holds U+E000)"},
	{"a noncharacter", "Alpha\uffff", "", "must not contain invisible or control characters (it holds U+FFFF)"},
}

func TestNormalizeName(t *testing.T) {
	for _, c := range nameCases {
		if c.err != "" || c.stored == "" {
			continue
		}
		if got := kit.NormalizeName(c.in); got != c.stored {
			t.Errorf("%s: NormalizeName(%q) = %q, want %q", c.name, c.in, got, c.stored)
		}
	}
}

// TestNamesAreCheckedEverywhere: every free-text name (a person's first and
// last name, at registration and on the account page, a project's at
// creation and in its settings, an access policy's) is stored normalised,
// or refused with a message on its own field.
func TestNamesAreCheckedEverywhere(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			home, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Home"})
			if err != nil {
				t.Fatal(err)
			}
			tn := sys.Tenant(home.ID)
			version := home.Version
			stores := []struct {
				what, field, label string
				save               func(i int, name string) (string, error)
			}{
				{"registration, first name", "firstName", "First name", func(i int, name string) (string, error) {
					u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: name, LastName: "L", Email: "r" + itoa(i) + "@example.org", Password: "password-123"})
					return u.FirstName, err
				}},
				{"registration, last name", "lastName", "Last name", func(i int, name string) (string, error) {
					u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "F", LastName: name, Email: "l" + itoa(i) + "@example.org", Password: "password-123"})
					return u.LastName, err
				}},
				{"account rename", "firstName", "First name", func(_ int, name string) (string, error) {
					u, err := sys.UpdateName(ctx, ada.ID, name, "Lovelace")
					return u.FirstName, err
				}},
				{"new project", "projectName", "Project name", func(_ int, name string) (string, error) {
					p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: name})
					return p.Name, err
				}},
				{"project settings", "name", "Project name", func(_ int, name string) (string, error) {
					p, _, err := tn.UpdateSettings(ctx, audit.Actor{UserID: ada.ID}, projects.SettingsUpdate{Name: name, StrictMode: true, Version: version}, false)
					if err == nil {
						version = p.Version
					}
					return p.Name, err
				}},
				{"access policy", "name", "Policy name", func(_ int, name string) (string, error) {
					p, err := tn.CreateAccessPolicy(ctx, audit.Actor{UserID: ada.ID}, resources.PolicyInput{Name: name,
						Rules: []resources.PolicyRule{{ResourceType: "Patient"}}})
					if err == nil {
						// Free the name for the next store that saves it.
						err = tn.DeleteAccessPolicy(ctx, audit.Actor{UserID: ada.ID}, p.ID)
					}
					return p.Name, err
				}},
			}
			for _, s := range stores {
				for i, c := range nameCases {
					got, err := s.save(i, c.in)
					msg := kit.FieldErrors(err)[s.field]
					switch {
					case c.err == "" && err != nil:
						t.Errorf("%s, %s (%q): refused: %v", s.what, c.name, c.in, err)
					case c.err == "" && got != c.stored:
						t.Errorf("%s, %s (%q): stored %q, want %q", s.what, c.name, c.in, got, c.stored)
					case c.err != "" && !strings.HasPrefix(msg, s.label+" "+c.err):
						t.Errorf("%s, %s (%q): error %q (%v), want %q…", s.what, c.name, c.in, msg, err, s.label+" "+c.err)
					}
				}
			}

			// What was saved last reads back from the database as it was stored.
			last := ""
			for _, c := range nameCases {
				if c.err == "" {
					last = c.stored
				}
			}
			if u, err := sys.UserByID(ctx, ada.ID); err != nil || u.FirstName != last {
				t.Errorf("first name read back %q, %v; want %q", u.FirstName, err, last)
			}
			if p, err := tn.Project(ctx); err != nil || p.Name != last {
				t.Errorf("project name read back %q, %v; want %q", p.Name, err, last)
			}
		})
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }
