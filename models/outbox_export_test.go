package models

import "time"

// SetOutboxClock makes the outbox read the time from clock until the
// returned function restores it.
func SetOutboxClock(clock func() time.Time) (restore func()) {
	old := outboxClock
	outboxClock = clock
	return func() { outboxClock = old }
}
