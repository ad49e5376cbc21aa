package main

import (
	"fmt"
	"math"
	"time"
)

// target is what issue 7 asks of a row. minShare is the least share of the
// pgbench -S rate (0: none) and counts towards the verdict; the latency
// bound is informational.
type target struct {
	minShare float64
	latency  latencyTarget
}

// latencyTarget bounds one percentile ("p50" or "p99"); zero max means none.
type latencyTarget struct {
	percentile string
	max        time.Duration
}

// Verdicts of a share or a bound.
const (
	pass    = "PASS"
	fail    = "FAIL"
	unknown = "n/a"
)

// shareOf is rate ÷ tps rounded to 3 decimals, as printed; false when there
// is no baseline to divide by.
func shareOf(rate, tps float64) (float64, bool) {
	if tps <= 0 || math.IsNaN(tps) || math.IsInf(tps, 0) || math.IsNaN(rate) || rate < 0 {
		return 0, false
	}
	return math.Round(rate/tps*1000) / 1000, true
}

// judgeShare compares the printed (rounded) share with the least share
// asked; "" when nothing is asked.
func judgeShare(rate, tps, minShare float64) string {
	if minShare <= 0 {
		return ""
	}
	share, ok := shareOf(rate, tps)
	switch {
	case !ok:
		return unknown
	case share >= minShare:
		return pass
	default:
		return fail
	}
}

// judgeLatency describes an informational latency bound against the
// measured p50 and p99 (known is false when no request succeeded):
// "p99<=10ms ok", "p99<=10ms OVER", or "" when there is no bound.
func judgeLatency(t latencyTarget, p50, p99 time.Duration, known bool) string {
	if t.max <= 0 {
		return ""
	}
	got := p99
	if t.percentile == "p50" {
		got = p50
	}
	label := fmt.Sprintf("%s<=%s", t.percentile, t.max)
	switch {
	case !known:
		return label + " n/a"
	case got <= t.max:
		return label + " ok"
	default:
		return label + " OVER"
	}
}

// judgeAtMost is the verdict for a counted figure with an upper bound.
func judgeAtMost(v int64, known bool, limit int64) string {
	switch {
	case !known:
		return unknown
	case v <= limit:
		return pass
	default:
		return fail
	}
}

// tally counts verdicts for the final line.
type tally struct {
	missed, unevaluated []string
}

func (t *tally) add(what, verdict string) {
	switch verdict {
	case fail:
		t.missed = append(t.missed, what)
	case unknown:
		t.unevaluated = append(t.unevaluated, what)
	}
}

// summary is the last line the load test prints.
func (t tally) summary() string {
	s := "loadtest: targets met"
	if n := len(t.missed); n > 0 {
		s = fmt.Sprintf("loadtest: %d target%s missed", n, plural(n))
	}
	if n := len(t.unevaluated); n > 0 {
		s += fmt.Sprintf(" (%d not evaluated)", n)
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
