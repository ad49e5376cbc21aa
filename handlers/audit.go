package handlers

import (
	"net/http"
	"slices"
	"strconv"

	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// Audit serves a project's audit log.
type Audit struct {
	Sys Directory
}

// Page shows one page of events, newest first, optionally one action only.
func (h *Audit) Page(c echo.Context, sc models.Scope) error {
	f := models.AuditFilter{Action: c.QueryParam("action")}
	if !slices.Contains(models.AuditActions, f.Action) {
		f.Action = ""
	}
	f.Page, _ = strconv.Atoi(c.QueryParam("page"))
	f.Page = max(f.Page, 1)
	events, more, err := sc.Store().AuditLog(ctx(c), f)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Actions: models.AuditActions, Action: f.Action, Page: f.Page, HasMore: more}
	for _, e := range events {
		vm.Rows = append(vm.Rows, views.AuditRowVM{When: e.CreatedAt.UTC().Format("2006-01-02 15:04:05"), Who: e.ActorEmail,
			Action: e.Action, Target: e.Target, Details: e.Details, IP: e.IP})
	}
	p, err := projectPage(c, h.Sys, sc, "Audit log")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AuditPage(p, vm))
}
