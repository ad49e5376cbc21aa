package models

import "time"

// SetSubmissionClock makes form tokens read the time from clock until the
// returned function restores it.
func SetSubmissionClock(clock func() time.Time) (restore func()) {
	old := submissionClock
	submissionClock = clock
	return func() { submissionClock = old }
}
