package web

import (
	"context"
	"time"
)

// retentionPoll is how often the server looks for deleted projects whose
// retention has passed. An expunge is due at the latest this long late.
const retentionPoll = 10 * time.Minute

// RunRetention expunges, until ctx is cancelled, every deleted project
// whose retention (Config.DeletedRetention) has passed: at once, then every
// retentionPoll. Run starts it. Each expunge is in the operator's log
// (models.System.ExpungeDeleted); one that fails is logged and tried again
// on the next round. Each round first sweeps what clones that never
// committed left behind (models.System.SweepClones).
func (s *Server) RunRetention(ctx context.Context) {
	tick := time.NewTicker(retentionPoll)
	defer tick.Stop()
	for {
		s.expungeDue(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// expungeDue runs one round of RunRetention as of now.
func (s *Server) expungeDue(ctx context.Context, now time.Time) {
	if n, err := s.sys.SweepClones(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("sweeping the leftovers of clones that never committed failed; trying again later", "err", err)
	} else if n > 0 {
		s.log.Info("swept the index rows of clones that never committed", "clones", n)
	}
	done, err := s.sys.ExpungeDeleted(ctx, s.cfg.deletedRetention(), now)
	for _, r := range done {
		s.log.Info("deleted project expunged after its retention", "project", r.Project.ID, "name", r.Project.Name,
			"resources", r.Resources)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("expunging deleted projects failed; trying again later", "err", err)
	}
}
