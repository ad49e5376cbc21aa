package forms

import "strings"

// maxSearch bounds a dashboard search, in bytes.
const maxSearch = 200

// AdminProjects is the dashboard's project list query, sent with GET: a
// part of the name, an order and the page.
type AdminProjects struct {
	Q    string `query:"q"`
	Sort string `query:"sort"`
	Page Int    `query:"page"`
}

// Validate reports a page number that does not read and a search too long.
func (f AdminProjects) Validate() Errors { return searchProblems(f.Q, f.Page) }

// Search is the search without surrounding spaces.
func (f AdminProjects) Search() string { return strings.TrimSpace(f.Q) }

// PageNumber is the page asked for, from 1; the first when it did not read.
func (f AdminProjects) PageNumber(e Errors) int { return pageOf(f.Page, e) }

// AdminUsers is the dashboard's account list query, sent with GET.
type AdminUsers struct {
	Q    string `query:"q"`
	Page Int    `query:"page"`
}

// Validate reports a page number that does not read and a search too long.
func (f AdminUsers) Validate() Errors { return searchProblems(f.Q, f.Page) }

// Search is the search without surrounding spaces.
func (f AdminUsers) Search() string { return strings.TrimSpace(f.Q) }

// PageNumber is the page asked for, from 1; the first when it did not read.
func (f AdminUsers) PageNumber(e Errors) int { return pageOf(f.Page, e) }

func searchProblems(q string, page Int) Errors {
	var e Errors
	e.Add("page", page.Problem())
	if len(q) > maxSearch {
		e.Add("q", "A search has at most 200 characters.")
	}
	return e
}

func pageOf(page Int, e Errors) int {
	if e.Of("page") != "" {
		return 1
	}
	return max(page.N, 1)
}

// ConfirmAccount confirms an operator's act on an account: its email,
// typed.
type ConfirmAccount struct {
	Confirm string `form:"confirm"`
}
