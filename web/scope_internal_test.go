package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/members"
	"enclave/models/projects"

	"github.com/labstack/echo/v4"
)

// TestScopedRefusesARouteWithoutMembership: a project handler registered
// without requireMember in front never runs: it has no scope to run with.
func TestScopedRefusesARouteWithoutMembership(t *testing.T) {
	ran := false
	h := scoped(func(echo.Context, models.Scope) error {
		ran = true
		return nil
	})
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/projects/x", nil), httptest.NewRecorder())
	if err := h(c); err == nil || ran {
		t.Fatalf("an unscoped route ran (err %v)", err)
	}
	// A forged, empty scope is no better: its store refuses to be used.
	defer func() {
		if recover() == nil {
			t.Error("the zero Scope handed out a store")
		}
	}()
	c.Set(keyScope, models.Scope{})
	_ = scoped(func(_ echo.Context, sc models.Scope) error {
		sc.Store()
		return nil
	})(c)
}

// TestEnterNeedsAResolvedCaller: a Caller not made by ResolveCaller, even
// one that lists the project, enters nothing.
func TestEnterNeedsAResolvedCaller(t *testing.T) {
	forged := models.Caller{User: accounts.User{ID: "u"}, Projects: []models.CallerAccess{{ProjectAccess: models.ProjectAccess{
		Project: projects.Project{ID: "p"}, Membership: members.ProjectMembership{ProjectID: "p", UserID: "u", Active: true, Admin: true}}}}}
	if _, err := forged.Enter("p"); err == nil {
		t.Fatal("a hand-made Caller entered a project")
	}
}
