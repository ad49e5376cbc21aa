package projectops_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"enclave/models/projectops"
	"enclave/models/testdb"
)

// A clone tells its progress: the resources to copy from the start, the
// count after each batch, and each later step, ending with all copied.
func TestCloneReportsProgress(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.DB)
			var seen []projectops.Progress
			res, err := projectops.Clone(t.Context(), db.DB, w.box, projectops.CloneInput{SourceID: w.source, Actor: w.actor(),
				Progress: func(p projectops.Progress) { seen = append(seen, p) }})
			must(t, err)
			if len(seen) < 4 {
				t.Fatalf("reports: %+v", seen)
			}
			first, last := seen[0], seen[len(seen)-1]
			if first.Step != projectops.StepResources || first.Done != 0 || first.Total != res.Resources {
				t.Errorf("first report %+v, %d resources copied", first, res.Resources)
			}
			if last.Step != projectops.StepMembers || last.Done != res.Resources || last.Total != res.Resources {
				t.Errorf("last report %+v, %d resources copied", last, res.Resources)
			}
			var steps []string
			for i, p := range seen {
				if i > 0 && p.Done < seen[i-1].Done {
					t.Errorf("report %d went back: %+v after %+v", i, p, seen[i-1])
				}
				if !slices.Contains(steps, p.Step) {
					steps = append(steps, p.Step)
				}
			}
			want := []string{projectops.StepResources, projectops.StepIndex, projectops.StepSettings, projectops.StepMembers}
			if !slices.Equal(steps, want) {
				t.Errorf("steps %v, want %v", steps, want)
			}
		})
	}
}

// awaitState polls job id until it is in state.
func awaitState(t *testing.T, js *projectops.Jobs, id, owner string, state projectops.JobState) projectops.Job {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		j, ok := js.Get(id, owner)
		if ok && j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %+v (found %v), want %s", id, j, ok, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Jobs run one at a time, each with its own context, report progress to
// their owner only, keep their outcome, and are forgotten some time after
// they end.
func TestJobs(t *testing.T) {
	js := projectops.NewJobs()
	release := make(chan struct{})
	var firstCtx context.Context
	first := js.Start("ada", "Alpha", func(ctx context.Context, report func(projectops.Progress)) (projectops.CloneResult, error) {
		firstCtx = ctx
		report(projectops.Progress{Step: projectops.StepResources, Done: 5, Total: 10})
		<-release
		return projectops.CloneResult{Resources: 10}, nil
	})
	running := awaitState(t, js, first, "ada", projectops.JobRunning)
	boom := errors.New("boom")
	second := js.Start("ada", "Beta", func(context.Context, func(projectops.Progress)) (projectops.CloneResult, error) {
		return projectops.CloneResult{}, boom
	})
	for running.Progress.Done != 5 {
		time.Sleep(5 * time.Millisecond)
		running, _ = js.Get(first, "ada")
	}
	if running.Source != "Alpha" || running.Progress.Total != 10 || running.Over() {
		t.Errorf("the running job: %+v", running)
	}
	if j, _ := js.Get(second, "ada"); j.State != projectops.JobQueued {
		t.Errorf("the second job while the first runs: %s", j.State)
	}
	if _, ok := js.Get(first, "bob"); ok {
		t.Error("another account follows ada's job")
	}
	if _, ok := js.Get("no-such-job", "ada"); ok {
		t.Error("an unknown job is found")
	}
	close(release)
	done := awaitState(t, js, first, "ada", projectops.JobDone)
	if done.Result.Resources != 10 || done.Progress.Done != 10 || done.Err != nil {
		t.Errorf("the finished job: %+v", done)
	}
	if firstCtx.Err() == nil {
		t.Error("a job's context outlives it")
	}
	failed := awaitState(t, js, second, "ada", projectops.JobFailed)
	if !errors.Is(failed.Err, boom) {
		t.Errorf("the failed job's error: %v", failed.Err)
	}
	js.Wait()
	js.Keep = 0
	time.Sleep(time.Millisecond)
	if _, ok := js.Get(first, "ada"); ok {
		t.Error("an ended job is kept past Keep")
	}
}
