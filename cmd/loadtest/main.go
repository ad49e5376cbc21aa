// Command loadtest measures Enclave against the targets of issue 7.
//
// It first runs PostgreSQL's own select-only benchmark (pgbench -S) on the
// same server as a baseline, then starts Enclave in-process on 127.0.0.1,
// signs a user in, preloads Patients through the FHIR API and runs, each with
// its own concurrent clients and each bounded by a request count and a time
// limit:
//
//   - create: POST Patient;
//   - read: GET Patient/{id} of preloaded Patients;
//   - search-identifier: identifier=urn:load|<i>, which must find exactly one;
//   - search-family-gender: family=smith&gender=female&_count=20, which must
//     fill the page (2,000 of the 3,000 preloaded Patients match);
//   - the console's project home, settings, members and Patient list pages.
//
// Every row reports requests, errors, req/s, p50, p99 and its share of the
// pgbench rate, with the targets; then the PostgreSQL sessions opened
// and CPU used during the run and the Go process's memory.
//
//	go run ./cmd/loadtest                                  # PostgreSQL at the local default URL
//	go run ./cmd/loadtest -database sqlite                 # embedded SQLite in a temporary folder
//	go run ./cmd/loadtest -n 300 -duration 3s -pgbench-time 3s
//
// On PostgreSQL it works in a fresh schema that it drops at the end, and keeps
// the pgbench tables in the scratch database enclave_loadtest_pgbench. It only
// talks to a database on the loopback interface.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"enclave/models"
	"enclave/models/secrets"
	"enclave/views/paths"
	"enclave/web"

	"gorm.io/gorm"
)

const (
	defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	// preloadLimit bounds the preload, which must finish for the searches
	// to find what they expect.
	preloadLimit = 10 * time.Minute
	// statsSettle lets PostgreSQL backends publish their session counts
	// (they do so when idle, about once a second) before a snapshot.
	statsSettle = 1500 * time.Millisecond
	maxSessions = 40
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	database       string
	clients        int
	consoleClients int
	n              int
	duration       time.Duration
	warmup         time.Duration
	preload        int
	pgbenchTime    time.Duration
	pgbenchTPS     float64
	strict         bool
	only           string
	cpuProfile     string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	dsn := os.Getenv("ENCLAVE_LOADTEST_DATABASE_URL")
	if dsn == "" {
		dsn = defaultDSN
	}
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.database, "database", dsn, `PostgreSQL URL on loopback, or "sqlite" (default from ENCLAVE_LOADTEST_DATABASE_URL)`)
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients of the API phases")
	fs.IntVar(&o.clients, "workers", 16, "same as -clients")
	fs.IntVar(&o.consoleClients, "console-clients", 64, "concurrent clients of the console pages")
	fs.IntVar(&o.n, "n", 3000, "at most this many measured requests per phase")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "at most this long per phase (after the warm-up)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each read, search and console phase")
	fs.IntVar(&o.preload, "preload", 3000, "Patients created before the phases (two in three are female Smiths)")
	fs.DurationVar(&o.pgbenchTime, "pgbench-time", 10*time.Second, "how long pgbench -S runs (whole seconds)")
	fs.Float64Var(&o.pgbenchTPS, "pgbench-tps", 0, "a known pgbench -S rate to compare with, instead of running pgbench")
	fs.BoolVar(&o.strict, "strict", false, "exit with status 1 when a target is missed")
	fs.StringVar(&o.only, "only", "", "run only the phases whose names contain this text (e.g. search, console)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run (server and clients) to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.clients < 1 || o.clients > 1024:
		return o, errors.New("-clients must be between 1 and 1024")
	case o.consoleClients < 1 || o.consoleClients > 1024:
		return o, errors.New("-console-clients must be between 1 and 1024")
	case o.n < 1 || o.n > 1_000_000:
		return o, errors.New("-n must be between 1 and 1000000")
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, errors.New("-duration must be more than 0 and at most 10m")
	case o.warmup < 0 || o.warmup > time.Minute:
		return o, errors.New("-warmup must be between 0 and 1m")
	case o.preload < 180 || o.preload > 100_000:
		// 180 makes 120 Smiths: the family-gender search pages up to offset 100.
		return o, errors.New("-preload must be between 180 and 100000")
	case o.pgbenchTime < time.Second || o.pgbenchTime > 10*time.Minute:
		return o, errors.New("-pgbench-time must be between 1s and 10m")
	case o.pgbenchTPS < 0 || math.IsNaN(o.pgbenchTPS) || math.IsInf(o.pgbenchTPS, 0):
		return o, errors.New("-pgbench-tps must be a positive rate")
	}
	return o, nil
}

// loopbackURL parses a postgres:// URL and refuses any host but loopback.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New(`-database must be a postgres:// URL or "sqlite"`)
	}
	if host := u.Hostname(); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return nil, fmt.Errorf("refusing to load-test a database on %q: loopback only", host)
	}
	return u, nil
}

// row is one line of the report.
type row struct {
	name    string
	clients int
	res     result
	target  target
}

func run(args []string, out io.Writer) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var problems []string // errors that do not stop the measurement

	// The PostgreSQL server pgbench measures: the one under test, or the
	// default local one beside SQLite.
	var pgURL *url.URL
	if o.database != "sqlite" {
		if pgURL, err = loopbackURL(o.database); err != nil {
			return err
		}
	} else if u, err := loopbackURL(defaultPostgresURL()); err == nil {
		pgURL = u
	}

	fmt.Fprintf(out, "Enclave loadtest (issue 7): %s, GOMAXPROCS %d, %d CPUs\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	var base baseline
	switch {
	case o.pgbenchTPS > 0:
		base = baseline{tps: o.pgbenchTPS, note: "given with -pgbench-tps"}
	case pgURL == nil:
		base = baseline{note: "no PostgreSQL URL on loopback to run pgbench against"}
	default:
		seconds := int(math.Ceil(o.pgbenchTime.Seconds()))
		b, err := runPgbench(ctx, pgURL, o.clients, seconds)
		switch {
		case err == nil:
			base = b
			if o.database == "sqlite" {
				base.note += ", on the PostgreSQL at " + pgURL.Redacted() + " for comparison"
			}
		case o.database == "sqlite":
			base = baseline{note: "pgbench could not run on " + pgURL.Redacted() + ": " + err.Error()}
		default:
			base = baseline{note: "pgbench failed: " + err.Error()}
			problems = append(problems, "pgbench failed")
		}
	}
	if base.tps > 0 {
		fmt.Fprintf(out, "baseline: %.0f tps, %s\n", base.tps, base.note)
	} else {
		fmt.Fprintf(out, "baseline: n/a (%s); shares are n/a\n", base.note)
	}

	db, admin, label, cleanup, err := openDatabase(ctx, o.database)
	if err != nil {
		return err
	}
	defer cleanup()
	if _, err := models.Migrate(ctx, db); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	secrets := make([]byte, secrets.KeySize)
	rand.Read(secrets)
	cfg := web.Config{DataDir: os.TempDir(), SessionKey: []byte(randomHex(32)), SecretsKey: secrets}
	srv := &http.Server{Handler: web.New(cfg, db, slog.New(slog.DiscardHandler)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base0 := "http://" + ln.Addr().String()

	user, err := signUp(ctx, db)
	if err != nil {
		return err
	}
	apiClient, err := signIn(base0, user, o.clients)
	if err != nil {
		return err
	}
	consoleClient, err := signIn(base0, user, o.consoleClients)
	if err != nil {
		return err
	}
	a := &api{c: apiClient, base: base0 + paths.FHIRBase, project: user.project}

	fmt.Fprintf(out, "database: %s; Enclave at %s in this process\n", label, base0)
	fmt.Fprintf(out, "each phase: at most %d requests or %s after a %s warm-up (reads, searches, console; not counted)\n", o.n, o.duration, o.warmup)

	ids, took, err := preload(a, o.clients, o.preload)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	smiths := femaleSmiths(o.preload)
	fmt.Fprintf(out, "preload: %d Patients through the API in %.1fs (%.0f req/s, %d clients), %d of them female Smiths\n",
		o.preload, took.Seconds(), float64(o.preload)/took.Seconds(), o.clients, smiths)
	for _, c := range []struct {
		query string
		want  int
	}{
		{fmt.Sprintf("/Patient?family=smith&gender=female&_count=1&_offset=%d", smiths-1), 1},
		{fmt.Sprintf("/Patient?family=smith&gender=female&_count=1&_offset=%d", smiths), 0},
		{"/Patient?identifier=urn:load|0", 1},
	} {
		if _, err := a.search(c.query, c.want); err != nil {
			fmt.Fprintf(out, "preload check FAILED: %v\n", err)
			problems = append(problems, "preload check failed")
		}
	}

	phases := makePhases(o, a, consoleClient, base0, user.project, ids)
	if o.only != "" {
		kept := phases[:0]
		for _, p := range phases {
			if strings.Contains(p.name, o.only) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("-only %q matches no phase", o.only)
		}
		phases = kept
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	// The measured run: from the first phase to the last.
	time.Sleep(statsSettle)
	before := snapshotPostgres(admin, "/proc")
	peakReset := resetPeakRSS()
	apiDials, consoleDials := apiClient.dials.Load(), consoleClient.dials.Load()
	var others *otherClients
	if admin != nil {
		others = watchOtherClients(admin, time.Second)
	}
	runStart := time.Now()

	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-22s %7s %8s %6s %9s %9s %9s %6s %7s %-4s  %s\n",
		"phase", "clients", "requests", "errors", "req/s", "p50", "p99", "share", "target", "", "latency target (informational)")
	var verdicts tally
	var rows []row
	for _, p := range phases {
		r := row{name: p.name, clients: p.clients, target: p.target}
		r.res = runPhase(p.clients, o.n, o.duration, p.warmup, p.do)
		rows = append(rows, r)
		verdict := printRow(out, r, base.tps)
		if verdict != "" {
			verdicts.add(p.name+" share", verdict)
		}
		if r.res.firstErr != nil {
			fmt.Fprintf(out, "    first error: %v\n", r.res.firstErr)
		}
	}
	runTime := time.Since(runStart)
	var othersMost, othersSamples int64
	if others != nil {
		othersMost, othersSamples = others.end()
	}
	time.Sleep(statsSettle)
	after := snapshotPostgres(admin, "/proc")
	mem := readGoMemory()

	fmt.Fprintln(out)
	fmt.Fprintln(out, "share = req/s ÷ pgbench -S tps (3 decimals); req/s, p50 and p99 count only requests answered as expected")
	fmt.Fprintf(out, "console pages (the signed-in admin): home /projects/{id}, settings /projects/{id}/settings, members /projects/{id}/members, Patient list /projects/{id}/resources/Patient\n")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "resources for the measured run (%s, %.1fs including warm-ups):\n", phases[0].name+" to "+phases[len(phases)-1].name, runTime.Seconds())
	if admin == nil {
		fmt.Fprintln(out, "  PostgreSQL sessions opened: n/a (SQLite)")
		fmt.Fprintln(out, "  PostgreSQL CPU: n/a (SQLite)")
	} else {
		if before.sessionsOK && after.sessionsOK {
			n := after.sessions - before.sessions
			v := judgeAtMost(n, true, maxSessions)
			verdicts.add("sessions", v)
			fmt.Fprintf(out, "  PostgreSQL sessions opened: %d (target <= %d: %s; pg_stat_database.sessions of the database, so other clients of it count too)\n", n, maxSessions, v)
		} else {
			verdicts.add("sessions", unknown)
			err := after.sessionErr
			if err == nil {
				err = before.sessionErr
			}
			fmt.Fprintf(out, "  PostgreSQL sessions opened: n/a (%v; needs PostgreSQL 14+)\n", err)
		}
		if before.cpuOK && after.cpuOK {
			fmt.Fprintf(out, "  PostgreSQL CPU: %.2f s (%.2f cores on average; utime+stime of %d \"postgres\" processes plus the children they reaped)\n",
				float64(after.cpuTicks-before.cpuTicks)/clockTicks, float64(after.cpuTicks-before.cpuTicks)/clockTicks/runTime.Seconds(), after.procs)
		} else {
			err := after.cpuErr
			if err == nil {
				err = before.cpuErr
			}
			fmt.Fprintf(out, "  PostgreSQL CPU: n/a (%v)\n", err)
		}
	}
	if admin != nil {
		switch {
		case othersSamples == 0:
			fmt.Fprintln(out, "  other PostgreSQL clients during the run: unknown (pg_stat_activity unreadable)")
		case othersMost > 0:
			fmt.Fprintf(out, "  other PostgreSQL clients during the run: up to %d connections at once that are not the load test's; the CPU figure, and the session count if they use this database, include their work\n", othersMost)
		default:
			fmt.Fprintln(out, "  other PostgreSQL clients during the run: none seen")
		}
	}
	peak := "n/a"
	if mem.peakOK {
		peak = mib(mem.peakRSS)
		if peakReset {
			peak += " (VmHWM, reset at the start of the run)"
		} else {
			peak += " (VmHWM since the process started)"
		}
	}
	fmt.Fprintf(out, "  Go process peak RSS: %s\n", peak)
	fmt.Fprintf(out, "  Go heap in use at the end: %s; Go runtime memory from the OS (Sys): %s\n", mib(int64(mem.heapInuse)), mib(int64(mem.sys)))
	fmt.Fprintln(out, "  (Enclave runs in this process, so these memory figures include the load clients and their buffers)")
	fmt.Fprintf(out, "  HTTP connections the load clients opened: %d API (for %d clients), %d console (for %d clients; one each, more would be reconnects)\n",
		apiClient.dials.Load()-apiDials, o.clients, consoleClient.dials.Load()-consoleDials, o.consoleClients)

	failed := 0
	for _, r := range rows {
		failed += r.res.errors
	}
	if failed > 0 {
		problems = append(problems, fmt.Sprintf("%d requests failed", failed))
	}
	fmt.Fprintln(out)
	if len(verdicts.missed) > 0 {
		fmt.Fprintf(out, "missed: %s\n", strings.Join(verdicts.missed, ", "))
	}
	if len(verdicts.unevaluated) > 0 {
		fmt.Fprintf(out, "not evaluated: %s\n", strings.Join(verdicts.unevaluated, ", "))
	}
	fmt.Fprintln(out, verdicts.summary())
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	if o.strict && len(verdicts.missed) > 0 {
		return errors.New("targets missed (-strict)")
	}
	return nil
}

// defaultPostgresURL is the PostgreSQL the SQLite run compares with.
func defaultPostgresURL() string {
	if u := os.Getenv("ENCLAVE_LOADTEST_DATABASE_URL"); strings.HasPrefix(u, "postgres") {
		return u
	}
	return defaultDSN
}

// printRow prints a row and returns the verdict on its share target ("" when
// it has none).
func printRow(out io.Writer, r row, tps float64) string {
	p50, ok50 := r.res.p50()
	p99, ok99 := r.res.p99()
	share := "n/a"
	if s, ok := shareOf(r.res.rate(), tps); ok {
		share = fmt.Sprintf("%.3f", s)
	}
	verdict := judgeShare(r.res.rate(), tps, r.target.minShare)
	want := ""
	if r.target.minShare > 0 {
		want = fmt.Sprintf(">=%.2f", r.target.minShare)
	}
	fmt.Fprintf(out, "%-22s %7d %8d %6d %9.1f %9s %9s %6s %7s %-4s  %s\n",
		r.name, r.clients, r.res.requests, r.res.errors, r.res.rate(), ms(p50, ok50), ms(p99, ok99), share, want, verdict,
		judgeLatency(r.target.latency, p50, p99, ok50 && ok99))
	return verdict
}

func ms(d time.Duration, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// phase is one measured workload.
type phase struct {
	name    string
	clients int
	warmup  time.Duration
	target  target
	do      func(i int) error
}

func makePhases(o options, a *api, console *client, base, project string, ids []string) []phase {
	n := len(ids)
	// spread walks the preloaded Patients in an order that is not the
	// order they were made in.
	spread := func(i int) int { return int((int64(i) * 7919) % int64(n)) }
	page := func(path string) func(int) error {
		return func(int) error { return console.get(base+path, http.StatusOK) }
	}
	milli := time.Millisecond
	return []phase{
		{name: "create", clients: o.clients, target: target{minShare: 0.04}, do: func(i int) error {
			var p struct {
				ID string `json:"id"`
			}
			if err := a.do(http.MethodPost, "/Patient", patientJSON(o.preload+i, "Brown", "male"), http.StatusCreated, &p); err != nil {
				return err
			}
			if p.ID == "" {
				return errors.New("POST /Patient: no id in the answer")
			}
			return nil
		}},
		{name: "read", clients: o.clients, warmup: o.warmup, target: target{0.30, latencyTarget{"p99", 10 * milli}}, do: func(i int) error {
			var p struct {
				ID string `json:"id"`
			}
			id := ids[spread(i)]
			if err := a.do(http.MethodGet, "/Patient/"+id, "", http.StatusOK, &p); err != nil {
				return err
			}
			if p.ID != id {
				return fmt.Errorf("GET /Patient/%s answered id %q", id, p.ID)
			}
			return nil
		}},
		{name: "search-identifier", clients: o.clients, warmup: o.warmup, target: target{minShare: 0.20}, do: func(i int) error {
			k := spread(i)
			q := fmt.Sprintf("/Patient?identifier=urn:load|%d", k)
			b, err := a.search(q, 1)
			if err != nil {
				return err
			}
			if got := b.Entry[0].Resource.ID; got != ids[k] {
				return fmt.Errorf("GET %s found Patient %s, want %s", q, got, ids[k])
			}
			return nil
		}},
		{name: "search-family-gender", clients: o.clients, warmup: o.warmup, target: target{0.07, latencyTarget{"p50", 20 * milli}}, do: func(i int) error {
			_, err := a.search(fmt.Sprintf("/Patient?family=smith&gender=female&_count=20&_offset=%d", (i%6)*20), 20)
			return err
		}},
		{name: "console home", clients: o.consoleClients, warmup: o.warmup, target: target{latency: latencyTarget{"p99", 10 * milli}}, do: page(paths.Project.URL(project))},
		{name: "console settings", clients: o.consoleClients, warmup: o.warmup, target: target{latency: latencyTarget{"p99", 10 * milli}}, do: page(paths.Settings.URL(project))},
		{name: "console members", clients: o.consoleClients, warmup: o.warmup, target: target{latency: latencyTarget{"p99", 10 * milli}}, do: page(paths.Members.URL(project))},
		{name: "console Patient list", clients: o.consoleClients, warmup: o.warmup, target: target{latency: latencyTarget{"p99", 30 * milli}}, do: page(paths.ResourceSearch.URL(project, "Patient"))},
	}
}

// preloadPatient is the family and gender of preloaded Patient i: two in
// three are female Smiths, the others male Joneses with distinct names.
func preloadPatient(i int) (family, gender string) {
	if i%3 != 0 {
		return "Smith", "female"
	}
	return fmt.Sprintf("Jones%d", i), "male"
}

// femaleSmiths is how many of the first n preloaded Patients are female Smiths.
func femaleSmiths(n int) int { return n - (n+2)/3 }

// patientJSON is Patient i, with the identifier urn:load|i.
func patientJSON(i int, family, gender string) string {
	return fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"urn:load","value":"%d"}],"name":[{"family":%q,"given":["Test"]}],"gender":%q,"birthDate":"%04d-%02d-%02d"}`,
		i, family, gender, 1930+i%70, 1+i%12, 1+i%28)
}

// preload creates n Patients with clients concurrent clients and returns
// their ids, ids[i] being Patient i. Any failure stops it.
func preload(a *api, clients, n int) ([]string, time.Duration, error) {
	ids := make([]string, n)
	var next atomic.Int64
	var failed atomic.Bool
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	deadline := start.Add(preloadLimit)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				err := error(nil)
				if time.Now().After(deadline) {
					err = fmt.Errorf("not finished after %s", preloadLimit)
				} else {
					family, gender := preloadPatient(i)
					var p struct {
						ID string `json:"id"`
					}
					err = a.do(http.MethodPost, "/Patient", patientJSON(i, family, gender), http.StatusCreated, &p)
					if err == nil && p.ID == "" {
						err = errors.New("POST /Patient: no id in the answer")
					}
					ids[i] = p.ID
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return ids, time.Since(start), firstErr
}

// openDatabase opens a fresh SQLite file or a fresh PostgreSQL schema. On
// PostgreSQL admin is a connection to the same database outside the schema,
// for the statistics.
func openDatabase(ctx context.Context, database string) (db, admin *gorm.DB, label string, cleanup func(), err error) {
	if database == "sqlite" {
		dir, err := os.MkdirTemp("", "enclave-loadtest-")
		if err != nil {
			return nil, nil, "", nil, err
		}
		db, err := models.OpenSQLite(filepath.Join(dir, "enclave.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, "", nil, err
		}
		return db, nil, "SQLite (temporary file)", func() { closeDB(db); os.RemoveAll(dir) }, nil
	}
	u, err := loopbackURL(database)
	if err != nil {
		return nil, nil, "", nil, err
	}
	adminURL := *u
	q := adminURL.Query()
	q.Set("application_name", appName)
	adminURL.RawQuery = q.Encode()
	admin, err = models.Open(ctx, adminURL.String(), "")
	if err != nil {
		return nil, nil, "", nil, err
	}
	schema := "loadtest_" + randomHex(6)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		closeDB(admin)
		return nil, nil, "", nil, err
	}
	q = u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	db, err = models.Open(ctx, u.String(), "")
	drop := func() {
		if db != nil {
			closeDB(db)
		}
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		closeDB(admin)
	}
	if err != nil {
		drop()
		return nil, nil, "", nil, err
	}
	var version string
	admin.Raw("SHOW server_version").Scan(&version)
	return db, admin, fmt.Sprintf("PostgreSQL %s (schema %s, dropped afterwards)", version, schema), drop, nil
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
