package main

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one phase measured. Latencies are those of the requests
// that were answered as expected, sorted; errors are counted apart.
type result struct {
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
	firstErr  error
}

// ok is the number of requests answered as expected.
func (r result) ok() int { return r.requests - r.errors }

// rate is the number of requests answered as expected per second.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok()) / r.elapsed.Seconds()
}

func (r result) p50() (time.Duration, bool) { return percentile(r.latencies, 0.50) }
func (r result) p99() (time.Duration, bool) { return percentile(r.latencies, 0.99) }

// percentile is the nearest-rank percentile p (0 < p <= 1) of sorted
// latencies; false when there are none.
func percentile(sorted []time.Duration, p float64) (time.Duration, bool) {
	if len(sorted) == 0 || p <= 0 || p > 1 || math.IsNaN(p) {
		return 0, false
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(0, i), len(sorted)-1)], true
}

// runPhase calls do from clients goroutines. During warmup the calls are not
// counted; then it measures until n calls were started or duration passed,
// whichever comes first. Each call gets a distinct index, counted from 0
// separately for the warm-up and for the measured part.
func runPhase(clients, n int, duration, warmup time.Duration, do func(i int) error) result {
	if warmup > 0 {
		var next atomic.Int64
		deadline := time.Now().Add(warmup)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					_ = do(int(next.Add(1)) - 1)
				}
			})
		}
		wg.Wait()
	}

	var next atomic.Int64
	var mu sync.Mutex
	var res result
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			requests, errs := 0, 0
			var firstErr error
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				t0 := time.Now()
				err := do(i)
				d := time.Since(t0)
				requests++
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			res.requests += requests
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}
