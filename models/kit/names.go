package kit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName puts a free-text name (a person's, a project's, a policy's)
// in the form it is stored and compared in: Unicode NFC, so that the same
// letters typed two ways are one name; every run of white space (tabs, line
// breaks, no-break and ideographic spaces) made one plain space; and no
// space at either end.
func NormalizeName(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckName normalises a free-text name (see NormalizeName), records
// under field what is wrong with it, labelled label (e.g. "Project name"),
// and returns it normalised. A name must have a visible character, at most
// max characters, and none of the invisible characters that make two names
// look alike or text run backwards (see nameProblem).
func CheckName(v *ValidationError, field, label, s string, max int) string {
	s = NormalizeName(s)
	switch {
	case s == "":
		v.Add(field, label+" is required.")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, fmt.Sprintf("%s must be at most %d characters.", label, max))
	default:
		if msg := nameProblem(s); msg != "" {
			v.Add(field, label+" "+msg)
		}
	}
	return s
}

// nameProblem says why a normalised, non-empty name is refused, as the end
// of a sentence that starts with the field's label; "" when it is fine.
//
// Refused are the bidirectional overrides, embeddings and isolates
// (U+202A–U+202E, U+2066–U+2069), which make a name display in another order
// than it is written, and every other control or format character (zero-width
// spaces, word joiners, byte-order marks, soft hyphens, tag characters) but
// the zero-width joiner and non-joiner, which Persian, Indic scripts and emoji
// need between visible characters. A name must also have at least one
// visible character: a letter, digit, punctuation mark or symbol that is not
// one of the blank look-alikes (Hangul fillers, the blank Braille pattern).
func nameProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid text."
	}
	visible := false
	for _, r := range s {
		switch {
		case isBidiControl(r):
			return fmt.Sprintf("must not contain text-direction controls (it holds U+%04X), which make it read differently than it is written.", r)
		case r == '\u200c' || r == '\u200d':
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || r == utf8.RuneError || isNoncharacter(r):
			return fmt.Sprintf("must not contain invisible or control characters (it holds U+%04X).", r)
		case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) && !blankLookalikes[r]:
			visible = true
		}
	}
	if !visible {
		return "must contain at least one visible character."
	}
	return ""
}

// isBidiControl reports whether r is one of the explicit directional
// formatting characters: the embeddings and overrides LRE, RLE, PDF, LRO,
// RLO and the isolates LRI, RLI, FSI, PDI.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// isNoncharacter reports whether r is one of Unicode's noncharacters, which
// are never meant to be shown.
func isNoncharacter(r rune) bool {
	return (r >= '\ufdd0' && r <= '\ufdef') || r&0xfffe == 0xfffe
}

// blankLookalikes are letters and symbols by category that display as
// nothing, so a name made of them looks empty.
var blankLookalikes = map[rune]bool{
	'\u115f': true, // Hangul choseong filler
	'\u1160': true, // Hangul jungseong filler
	'\u3164': true, // Hangul filler
	'\uffa0': true, // halfwidth Hangul filler
	'\u2800': true, // Braille pattern blank
}
