package views_test

import (
	"testing"

	"enclave/views"
)

// A clone's progress refreshes itself with htmx while the clone runs, and
// offers a Refresh link to browsers without JavaScript; once it has ended
// it stops, and links to the copy or says what went wrong.
func TestJobProgressRefreshesWhileRunning(t *testing.T) {
	running := render(t, views.JobProgress(views.AdminJobVM{ID: "j1", Source: "Alpha", State: "running",
		Step: "Copying resources", Done: 5000, Total: 100000}))
	box := running.Find(`[data-testid="clone-progress"]`)
	if box.AttrOr("hx-get", "") != "/admin/jobs/j1" || box.AttrOr("hx-trigger", "") != "every 1s" || box.AttrOr("hx-swap", "") != "outerHTML" {
		t.Errorf("the running job's polling: %v", box.Nodes[0].Attr)
	}
	if got := running.Find(`[data-testid="clone-step"]`).Text(); got != "Copying resources: copied 5000 of 100000 resources." {
		t.Errorf("the step: %q", got)
	}
	if running.Find(`[data-testid="clone-refresh"]`).AttrOr("href", "") != "/admin/jobs/j1" {
		t.Error("no Refresh link while the job runs")
	}

	done := render(t, views.JobProgress(views.AdminJobVM{ID: "j1", Source: "Alpha", State: "done", NewID: "p2", NewName: "Alpha (copy)"}))
	box = done.Find(`[data-testid="clone-progress"]`)
	if _, polls := box.Attr("hx-trigger"); polls || done.Find(`[data-testid="clone-refresh"]`).Length() != 0 {
		t.Error("a finished job still refreshes")
	}
	if done.Find(`[data-testid="clone-done-link"]`).AttrOr("href", "") != "/projects/p2" {
		t.Error("no link to the copy")
	}

	failed := render(t, views.JobProgress(views.AdminJobVM{ID: "j1", Source: "Alpha", State: "failed", Error: "the project no longer exists."}))
	if _, polls := failed.Find(`[data-testid="clone-progress"]`).Attr("hx-trigger"); polls {
		t.Error("a failed job still refreshes")
	}
	if got := failed.Find(`[data-testid="clone-error"]`).Text(); got == "" || failed.Find(`[data-testid="clone-done-link"]`).Length() != 0 {
		t.Errorf("the failure: %q", got)
	}
}
