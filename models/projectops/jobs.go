package projectops

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// JobState is where a background clone is.
type JobState string

const (
	// JobQueued waits for another clone to finish: one runs at a time, so
	// that clones hold at most one database connection between them.
	JobQueued  JobState = "queued"
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	JobFailed  JobState = "failed"
)

// Job is a clone that runs in the background, as the dashboard starts it,
// seen at one moment.
type Job struct {
	ID string
	// Owner is the account that started the job: the only one that may
	// follow it.
	Owner string
	// Source names the project being copied, for the progress page.
	Source   string
	State    JobState
	Progress Progress
	// Result is the clone, once Done; Err why it failed.
	Result   CloneResult
	Err      error
	Started  time.Time
	Finished time.Time
}

// Over reports whether the job has ended, either way.
func (j Job) Over() bool { return j.State == JobDone || j.State == JobFailed }

// Jobs runs the dashboard's clones in the background, each on its own
// goroutine with its own context (a clone outlives the request that asked
// for it), one at a time, and keeps each job's progress for its owner to
// follow, in this process's memory, for Keep after it ended.
type Jobs struct {
	// Keep is how long an ended job stays to be looked at.
	Keep time.Duration
	// Timeout bounds one clone's run.
	Timeout time.Duration

	mu    sync.Mutex
	jobs  map[string]*Job
	slot  chan struct{}
	wg    sync.WaitGroup
	clock func() time.Time
}

// NewJobs makes an empty registry.
func NewJobs() *Jobs {
	return &Jobs{Keep: time.Hour, Timeout: time.Hour, jobs: map[string]*Job{}, slot: make(chan struct{}, 1), clock: time.Now}
}

// CloneRun is one clone as a job runs it: it reports its progress and
// returns the clone.
type CloneRun func(ctx context.Context, report func(Progress)) (CloneResult, error)

// Start queues run as a new job of owner about the project named source,
// and returns the job's id, a random one that no one can guess.
func (js *Jobs) Start(owner, source string, run CloneRun) string {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.prune()
	j := &Job{ID: uuid.NewString(), Owner: owner, Source: source, State: JobQueued, Started: js.clock()}
	js.jobs[j.ID] = j
	js.wg.Add(1)
	go js.run(j.ID, run)
	return j.ID
}

func (js *Jobs) run(id string, run CloneRun) {
	defer js.wg.Done()
	js.slot <- struct{}{}
	defer func() { <-js.slot }()
	js.update(id, func(j *Job) { j.State = JobRunning })
	ctx, cancel := context.WithTimeout(context.Background(), js.Timeout)
	defer cancel()
	res, err := run(ctx, func(p Progress) { js.update(id, func(j *Job) { j.Progress = p }) })
	js.update(id, func(j *Job) {
		j.Finished = js.clock()
		if err != nil {
			j.State, j.Err = JobFailed, err
			return
		}
		j.State, j.Result = JobDone, res
		j.Progress.Done = j.Progress.Total
	})
}

func (js *Jobs) update(id string, do func(*Job)) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if j, ok := js.jobs[id]; ok {
		do(j)
	}
}

// Get returns job id as it is now, if it exists and belongs to owner.
func (js *Jobs) Get(id, owner string) (Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.prune()
	j, ok := js.jobs[id]
	if !ok || j.Owner != owner {
		return Job{}, false
	}
	return *j, true
}

// Wait blocks until every job started so far has ended (tests, shutdown).
func (js *Jobs) Wait() { js.wg.Wait() }

// prune forgets the jobs that ended more than Keep ago; js.mu is held.
func (js *Jobs) prune() {
	cutoff := js.clock().Add(-js.Keep)
	for id, j := range js.jobs {
		if j.Over() && j.Finished.Before(cutoff) {
			delete(js.jobs, id)
		}
	}
}
