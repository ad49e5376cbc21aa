package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// pgSnapshot is what PostgreSQL has used so far.
type pgSnapshot struct {
	sessions   int64 // pg_stat_database.sessions of the load test's database
	sessionsOK bool
	sessionErr error
	cpuTicks   int64 // CPU time of every "postgres" process, in clock ticks
	procs      int   // how many such processes were seen
	cpuOK      bool
	cpuErr     error
}

// snapshotPostgres reads the session counter (PostgreSQL 14 and later) and
// the CPU time of the server's processes from /proc.
func snapshotPostgres(admin *gorm.DB, procDir string) pgSnapshot {
	var s pgSnapshot
	if admin != nil {
		s.sessionErr = admin.Raw("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").Scan(&s.sessions).Error
		s.sessionsOK = s.sessionErr == nil
	} else {
		s.sessionErr = errors.New("not PostgreSQL")
	}
	s.cpuTicks, s.procs, s.cpuErr = postgresCPUTicks(procDir)
	s.cpuOK = s.cpuErr == nil && s.procs > 0
	if s.cpuErr == nil && s.procs == 0 {
		s.cpuErr = fmt.Errorf("no process named postgres in %s (server in a container or on another host?)", procDir)
	}
	return s
}

// parseProcStat reads the command name and utime+stime+cutime+cstime (in
// clock ticks) from the text of /proc/<pid>/stat. The children's times hold
// what reaped processes used: a backend that ended during the run is counted
// in its postmaster's cutime/cstime once it is gone.
func parseProcStat(text string) (comm string, ticks int64, err error) {
	open, closing := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || closing < open {
		return "", 0, errors.New("stat: no (comm)")
	}
	comm = text[open+1 : closing]
	// Fields after the command name start with field 3 (state); utime,
	// stime, cutime and cstime are fields 14 to 17.
	fields := strings.Fields(text[closing+1:])
	if len(fields) < 15 {
		return "", 0, fmt.Errorf("stat: %d fields after comm, want at least 15", len(fields))
	}
	for _, f := range fields[11:15] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 0 {
			return "", 0, fmt.Errorf("stat: bad time %q", f)
		}
		ticks += v
	}
	return comm, ticks, nil
}

// postgresCPUTicks sums the CPU time of every process whose comm is
// "postgres" under procDir (normally /proc). Processes that end while it
// reads are skipped.
func postgresCPUTicks(procDir string) (ticks int64, procs int, err error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procDir, e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, t, err := parseProcStat(string(stat))
		if err != nil {
			return 0, 0, fmt.Errorf("%s/%s/stat: %w", procDir, e.Name(), err)
		}
		ticks += t
		procs++
	}
	return ticks, procs, nil
}

// parseStatusKB reads a "Name:   123 kB" line of /proc/<pid>/status, in bytes.
func parseStatusKB(text, name string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		return v * 1024, true
	}
	return 0, false
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux 4.0+);
// false when the kernel refused.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// goMemory is the Go process's memory at the end of the run.
type goMemory struct {
	peakRSS   int64
	peakOK    bool
	heapInuse uint64
	sys       uint64
}

func readGoMemory() goMemory {
	var m goMemory
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		m.peakRSS, m.peakOK = parseStatusKB(string(b), "VmHWM")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapInuse, m.sys = ms.HeapInuse, ms.Sys
	return m
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// appName marks the load test's own PostgreSQL connections, so that others
// can be told apart.
const appName = "enclave_loadtest"

// otherClients watches, while the run lasts, how many client connections to
// the PostgreSQL server are not the load test's: their work would be counted
// in the session and CPU figures.
type otherClients struct {
	max     atomic.Int64
	samples atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func watchOtherClients(admin *gorm.DB, every time.Duration) *otherClients {
	w := &otherClients{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var n int64
			err := admin.Raw(`SELECT count(*) FROM pg_stat_activity
				WHERE backend_type = 'client backend' AND application_name <> ?`, appName).Scan(&n).Error
			if err == nil {
				w.samples.Add(1)
				if n > w.max.Load() {
					w.max.Store(n)
				}
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// end stops watching and returns the most other connections seen at once,
// and how many times it looked.
func (w *otherClients) end() (most, samples int64) {
	close(w.stop)
	<-w.done
	return w.max.Load(), w.samples.Load()
}
