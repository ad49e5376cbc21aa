package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projectops"
	"enclave/models/secrets"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// ProjectDesk is what the dashboard's acts on whole projects need: what a
// project holds, the acts themselves, and the server's whole audit log.
type ProjectDesk interface {
	Directory
	ContentsOf(ctx context.Context, projectID string) (models.ProjectContents, error)
	CloneProject(ctx context.Context, box *secrets.Box, in projectops.CloneInput) (projectops.CloneResult, error)
	ExpungeConfirmed(ctx context.Context, a audit.Actor, projectID, confirm string) (projectops.ExpungeResult, error)
	GlobalAudit(ctx context.Context, q models.GlobalAuditQuery) (models.GlobalAuditPage, error)
}

// Ops serves the dashboard's acts on whole projects: a clone, run in the
// background with its progress on a page of its own, an expunge confirmed
// by the project's typed name, and the global audit log. Only super admins
// reach it (web.requireSuperAdmin).
type Ops struct {
	Sys ProjectDesk
	// Box opens and seals the secrets a clone copies.
	Box  *secrets.Box
	Jobs *projectops.Jobs
	Log  *slog.Logger
}

// ClonePage offers to clone :project: a name, its resource types (all
// checked), and whether its members come along (not by default).
func (h *Ops) ClonePage(c echo.Context) error {
	pc, err := h.liveContents(c)
	if err != nil {
		return err
	}
	f := forms.CloneProject{Name: pc.Project.Name + " (copy)"}
	for _, t := range pc.Types {
		f.Types = append(f.Types, t.Type)
	}
	return h.clonePage(c, http.StatusOK, pc, f, forms.Errors{})
}

func (h *Ops) clonePage(c echo.Context, status int, pc models.ProjectContents, f forms.CloneProject, errs forms.Errors) error {
	vm := views.AdminCloneVM{ProjectID: pc.Project.ID, ProjectName: pc.Project.Name, Form: f, Errors: errs}
	for _, t := range pc.Types {
		vm.Types = append(vm.Types, views.AdminTypeCountVM{Type: t.Type, N: t.N})
	}
	p, err := pageFor(c, h.Sys, "Clone "+pc.Project.Name)
	if err != nil {
		return err
	}
	return render(c, status, views.AdminClonePage(p, vm))
}

// Clone checks the form and starts the clone in the background, then sends
// the browser to the job's progress page.
func (h *Ops) Clone(c echo.Context) error {
	pc, err := h.liveContents(c)
	if err != nil {
		return err
	}
	var f forms.CloneProject
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	in := projectops.CloneInput{SourceID: pc.Project.ID, Name: strings.TrimSpace(f.Name), Memberships: f.Memberships.On(), Actor: Actor(c)}
	if !errs.Any() {
		in.ResourceTypes, errs = chosenTypes(pc.Types, f.Types)
	}
	if !errs.Any() {
		if fields := kit.FieldErrors(in.Validate()); fields != nil {
			if msg, ok := fields["resourceTypes"]; ok {
				fields["types"] = msg
				delete(fields, "resourceTypes")
			}
			errs.Merge(fields)
		}
	}
	if errs.Any() {
		return h.clonePage(c, http.StatusUnprocessableEntity, pc, f, errs)
	}
	u, _ := CurrentUser(c)
	id := h.Jobs.Start(u.ID, pc.Project.Name, func(jobCtx context.Context, report func(projectops.Progress)) (projectops.CloneResult, error) {
		in.Progress = report
		return h.Sys.CloneProject(jobCtx, h.Box, in)
	})
	return redirect(c, paths.AdminJob.URL(id))
}

// liveContents is :project with what it holds, for a clone: a project its
// admin deleted is not found (it can be restored, or expunged, first).
func (h *Ops) liveContents(c echo.Context) (models.ProjectContents, error) {
	pc, err := h.Sys.ContentsOf(ctx(c), c.Param("project"))
	if err == nil && pc.Project.DeletedAt.Valid {
		err = kit.ErrNotFound
	}
	return pc, err
}

// chosenTypes reads the types the form chose among those the project
// holds: nil when it chose them all (so that the clone copies every type,
// also one written since the form was shown).
func chosenTypes(held []models.TypeCount, chosen []string) ([]string, forms.Errors) {
	var errs forms.Errors
	if len(held) == 0 {
		return nil, errs
	}
	if len(chosen) == 0 {
		errs.Add("types", "Choose at least one resource type to copy.")
		return nil, errs
	}
	all := true
	for _, t := range held {
		all = all && slices.Contains(chosen, t.Type)
	}
	if all {
		return nil, errs
	}
	return chosen, errs
}

// Job shows how far the background clone :job has come: the whole page, or
// for htmx's polling its progress alone. Only the super admin who started
// it sees it.
func (h *Ops) Job(c echo.Context) error {
	u, _ := CurrentUser(c)
	j, ok := h.Jobs.Get(c.Param("job"), u.ID)
	if !ok {
		return echo.ErrNotFound
	}
	vm := views.AdminJobVM{ID: j.ID, Source: j.Source, State: string(j.State), Step: j.Progress.Step,
		Done: j.Progress.Done, Total: j.Progress.Total}
	switch j.State {
	case projectops.JobDone:
		r := j.Result
		vm.NewID, vm.NewName = r.Project.ID, r.Project.Name
		vm.Copied = fmt.Sprintf("%d resources, %d access policies, %d secrets, %d API clients and %d memberships copied into %s.",
			r.Resources, r.Policies, r.Secrets, r.Clients, r.Memberships, r.Project.Name)
	case projectops.JobFailed:
		vm.Error = h.jobError(j.Err)
	}
	if IsHTMX(c) {
		return render(c, http.StatusOK, views.JobProgress(vm))
	}
	p, err := pageFor(c, h.Sys, "Clone of "+j.Source)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdminJobPage(p, vm))
}

// jobError is what the progress page says of a failed clone: the models'
// own message when they refused it, a pointer to the log otherwise.
func (h *Ops) jobError(err error) string {
	if fields := kit.FieldErrors(err); fields != nil {
		msgs := make([]string, 0, len(fields))
		for _, m := range fields {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		return strings.Join(msgs, " ")
	}
	switch {
	case errors.Is(err, kit.ErrNotFound):
		return "the project no longer exists."
	case errors.Is(err, context.DeadlineExceeded):
		return "it took too long and was stopped."
	}
	if h.Log != nil {
		h.Log.Error("clone failed", "err", err)
	}
	return "the server could not complete it (the server log says why)."
}

// ExpungePage asks for :project's name before expunging it.
func (h *Ops) ExpungePage(c echo.Context) error {
	pc, err := h.Sys.ContentsOf(ctx(c), c.Param("project"))
	if err != nil {
		return err
	}
	return h.expungePage(c, http.StatusOK, pc, forms.ConfirmProject{}, forms.Errors{})
}

func (h *Ops) expungePage(c echo.Context, status int, pc models.ProjectContents, f forms.ConfirmProject, errs forms.Errors) error {
	vm := views.AdminExpungeVM{ProjectID: pc.Project.ID, ProjectName: pc.Project.Name, SuperAdmin: pc.Project.SuperAdmin,
		Resources: pc.Resources(), Members: pc.Members, Form: f, Errors: errs}
	p, err := pageFor(c, h.Sys, "Expunge "+pc.Project.Name)
	if err != nil {
		return err
	}
	return render(c, status, views.AdminExpungePage(p, vm))
}

// Expunge hard-deletes :project once its name is typed, and goes back to
// the project list, which says so. The last super-admin project is
// refused.
func (h *Ops) Expunge(c echo.Context) error {
	pc, err := h.Sys.ContentsOf(ctx(c), c.Param("project"))
	if err != nil {
		return err
	}
	var f forms.ConfirmProject
	errs, err := submit(c, &f, func() error {
		_, err := h.Sys.ExpungeConfirmed(ctx(c), Actor(c), pc.Project.ID, f.Confirm)
		return err
	})
	if errors.Is(err, projectops.ErrLastSuperAdmin) {
		errs.Form = "This is the only super-admin project: make another project a super-admin one first " +
			"(enclave super-admin grant), or the server would have no operators."
		return h.expungePage(c, http.StatusConflict, pc, f, errs)
	}
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.expungePage(c, http.StatusUnprocessableEntity, pc, f, errs)
	}
	return redirect(c, paths.AdminProjects.URL()+"?"+expungedParam+"="+url.QueryEscape(pc.Project.ID))
}

// expungedParam names, on the project list, the project just expunged: the
// list says so from the operator's log, never from what the link says.
const expungedParam = "expunged"

// AuditLog shows the server's whole audit log, filtered and paged.
func (h *Ops) AuditLog(c echo.Context) error {
	var f forms.GlobalAudit
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	actions := append(slices.Clone(audit.Actions), audit.OperatorActions...)
	q := models.GlobalAuditQuery{Project: f.Project, Actor: f.Actor}
	if errs.Of("project") != "" {
		q.Project = ""
	}
	if errs.Of("actor") != "" {
		q.Actor = ""
	}
	if f.Action != "" {
		if slices.Contains(actions, f.Action) {
			q.Action = f.Action
		} else {
			errs.Add("action", "Choose an action from the list.")
		}
	}
	if f.Before != "" {
		if cur, ok := models.ParseAuditCursor(f.Before); ok {
			q.Before = &cur
		} else {
			errs.Add("before", "This page's link is broken: start again from the newest events.")
		}
	}
	page, err := h.Sys.GlobalAudit(ctx(c), q)
	if err != nil {
		return err
	}
	vm := views.AdminAuditVM{Filter: f, Errors: errs, Actions: actions}
	for _, l := range page.Lines {
		vm.Lines = append(vm.Lines, views.AdminAuditLineVM{At: l.At.UTC().Format("2006-01-02 15:04:05"), ProjectID: l.ProjectID,
			ProjectName: l.ProjectName, Live: l.Live, Actor: l.ActorEmail, Action: l.Action, Target: l.Target, Operator: l.Operator})
	}
	keep := url.Values{}
	for k, v := range map[string]string{"project": q.Project, "actor": q.Actor, "action": q.Action} {
		if v = strings.TrimSpace(v); v != "" {
			keep.Set(k, v)
		}
	}
	if q.Before != nil {
		vm.FirstURL = listURL(paths.AdminAudit.URL(), keep)
	}
	if page.Next != nil {
		next := maps.Clone(keep)
		next.Set("before", page.Next.String())
		vm.NextURL = listURL(paths.AdminAudit.URL(), next)
	}
	p, err := pageFor(c, h.Sys, "Audit log")
	if err != nil {
		return err
	}
	return render(c, statusOf(errs), views.AdminAuditPage(p, vm))
}

// listURL is base with the query q, if any.
func listURL(base string, q url.Values) string {
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}
