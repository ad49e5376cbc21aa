package main

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePgbenchTPS(t *testing.T) {
	pg15 := `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: simple
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 251234
number of failed transactions: 0 (0.000%)
latency average = 0.637 ms
initial connection time = 12.345 ms
tps = 25118.723456 (without initial connection time)
`
	pg13 := `number of transactions actually processed: 1000
tps = 980.123 (including connections establishing)
tps = 1012.5 (excluding connections establishing)
`
	for _, c := range []struct {
		name, out string
		want      float64
		ok        bool
	}{
		{"PostgreSQL 15", pg15, 25118.723456, true},
		{"PostgreSQL 13 takes the rate without connecting", pg13, 1012.5, true},
		{"no tps line", "pgbench: error: connection to server failed\n", 0, false},
		{"only the rate with connections", "tps = 980.1 (including connections establishing)\n", 0, false},
		{"garbled number", "tps = abc (without initial connection time)\n", 0, false},
		{"negative", "tps = -3 (without initial connection time)\n", 0, false},
		{"empty", "", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parsePgbenchTPS(c.out)
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("parsePgbenchTPS = %v, %v; want %v, ok %v", got, err, c.want, c.ok)
			}
		})
	}
}

func TestPgbenchConn(t *testing.T) {
	for _, c := range []struct {
		url      string
		args     []string
		env      []string
		database string
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			[]string{"-h", "127.0.0.1", "-p", "5432", "-U", "postgres"}, []string{"PGSSLMODE=disable"},
			"postgres://postgres@127.0.0.1:5432/enclave_loadtest_pgbench?sslmode=disable"},
		{"postgresql://ann:s%40cret@localhost/app",
			[]string{"-h", "localhost", "-p", "5432", "-U", "ann"}, []string{"PGPASSWORD=s@cret"},
			"postgresql://ann:s%40cret@localhost/enclave_loadtest_pgbench"},
		{"postgres://[::1]:6543/db?search_path=x&sslmode=require",
			[]string{"-h", "::1", "-p", "6543"}, []string{"PGSSLMODE=require"},
			"postgres://[::1]:6543/enclave_loadtest_pgbench?sslmode=require"},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		args, env := pgbenchConn(u)
		if !slices.Equal(args, c.args) || !slices.Equal(env, c.env) {
			t.Errorf("pgbenchConn(%s) = %q, %q; want %q, %q", c.url, args, env, c.args, c.env)
		}
		if got := withDatabase(u, pgbenchDatabase); got != c.database {
			t.Errorf("withDatabase(%s) = %s, want %s", c.url, got, c.database)
		}
	}
}

func TestLoopbackURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/postgres": true,
		"postgresql://localhost/x":                    true,
		"postgres://[::1]/x":                          true,
		"postgres://db.example.org/x":                 false,
		"postgres://10.0.0.5:5432/x":                  false,
		"mysql://127.0.0.1/x":                         false,
		"sqlite":                                      false,
	} {
		if _, err := loopbackURL(raw); (err == nil) != ok {
			t.Errorf("loopbackURL(%s): err %v, want ok %v", raw, err, ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0.5, 0, false},
		{"one", ms(7), 0.99, 7 * time.Millisecond, true},
		{"p50 of 1..100", ms(hundred...), 0.50, 50 * time.Millisecond, true},
		{"p99 of 1..100", ms(hundred...), 0.99, 99 * time.Millisecond, true},
		{"p100 is the largest", ms(hundred...), 1, 100 * time.Millisecond, true},
		{"p50 of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond, true},
		{"p99 of ten is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond, true},
		{"tiny p is the smallest", ms(3, 4), 0.001, 3 * time.Millisecond, true},
		{"p out of range", ms(1, 2), 1.5, 0, false},
		{"p zero", ms(1, 2), 0, 0, false},
	} {
		got, ok := percentile(c.sorted, c.p)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: percentile = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestShares(t *testing.T) {
	for _, c := range []struct {
		rate, tps, min float64
		share          float64
		known          bool
		verdict        string
	}{
		{3000, 10000, 0.30, 0.300, true, pass},
		{2999, 10000, 0.30, 0.300, true, pass}, // 0.2999 prints 0.300
		{2994, 10000, 0.30, 0.299, true, fail},
		{400, 10000, 0.04, 0.040, true, pass},
		{399, 10000, 0.04, 0.040, true, pass},
		{394, 10000, 0.04, 0.039, true, fail},
		{0, 10000, 0.07, 0, true, fail},
		{700, 0, 0.07, 0, false, unknown},
		{700, 10000, 0, 0.070, true, ""},
	} {
		share, known := shareOf(c.rate, c.tps)
		if share != c.share || known != c.known {
			t.Errorf("shareOf(%v, %v) = %v, %v; want %v, %v", c.rate, c.tps, share, known, c.share, c.known)
		}
		if v := judgeShare(c.rate, c.tps, c.min); v != c.verdict {
			t.Errorf("judgeShare(%v, %v, %v) = %q, want %q", c.rate, c.tps, c.min, v, c.verdict)
		}
	}
}

func TestJudgeLatency(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		t        latencyTarget
		p50, p99 time.Duration
		known    bool
		want     string
	}{
		{latencyTarget{"p99", 10 * ms}, 2 * ms, 10 * ms, true, "p99<=10ms ok"},
		{latencyTarget{"p99", 10 * ms}, 2 * ms, 11 * ms, true, "p99<=10ms OVER"},
		{latencyTarget{"p50", 20 * ms}, 19 * ms, 90 * ms, true, "p50<=20ms ok"},
		{latencyTarget{"p50", 20 * ms}, 21 * ms, 22 * ms, true, "p50<=20ms OVER"},
		{latencyTarget{"p99", 30 * ms}, 0, 0, false, "p99<=30ms n/a"},
		{latencyTarget{}, ms, ms, true, ""},
	} {
		if got := judgeLatency(c.t, c.p50, c.p99, c.known); got != c.want {
			t.Errorf("judgeLatency(%v, %v, %v) = %q, want %q", c.t, c.p50, c.p99, got, c.want)
		}
	}
}

func TestTally(t *testing.T) {
	var none tally
	none.add("read share", pass)
	none.add("x", "")
	if got := none.summary(); got != "loadtest: targets met" {
		t.Errorf("all passed: %q", got)
	}
	var some tally
	some.add("read share", fail)
	some.add("create share", pass)
	some.add("sessions", judgeAtMost(41, true, 40))
	if got := some.summary(); got != "loadtest: 2 targets missed" {
		t.Errorf("two failed: %q", got)
	}
	var one tally
	one.add("sessions", judgeAtMost(40, true, 40))
	one.add("read share", fail)
	one.add("create share", unknown)
	if got := one.summary(); got != "loadtest: 1 target missed (1 not evaluated)" {
		t.Errorf("one failed, one unknown: %q", got)
	}
	if v := judgeAtMost(3, false, 40); v != unknown {
		t.Errorf("judgeAtMost unknown = %q", v)
	}
}

func TestParseProcStat(t *testing.T) {
	// Field 14..17 are utime, stime, cutime, cstime.
	tail := " S 1 2212 2212 0 -1 4194560 1200 3400 0 0 150 25 7 3 20 0 1 0 1234 226000000 5000 18446744073709551615"
	for _, c := range []struct {
		name, text string
		comm       string
		ticks      int64
		ok         bool
	}{
		{"postgres", "2213 (postgres)" + tail, "postgres", 185, true},
		{"comm with spaces and parens", "77 (a b) c))" + tail, "a b) c)", 185, true},
		{"truncated", "2213 (postgres) S 1 2 3", "", 0, false},
		{"no comm", "2213 postgres S", "", 0, false},
		{"bad number", "2213 (postgres) S 1 2212 2212 0 -1 4194560 1200 3400 0 0 x 25 7 3 20", "", 0, false},
	} {
		comm, ticks, err := parseProcStat(c.text)
		if (err == nil) != c.ok || comm != c.comm || ticks != c.ticks {
			t.Errorf("%s: parseProcStat = %q, %d, %v; want %q, %d, ok %v", c.name, comm, ticks, err, c.comm, c.ticks, c.ok)
		}
	}
}

func TestPostgresCPUTicks(t *testing.T) {
	dir := t.TempDir()
	proc := func(pid, comm, stat string) {
		p := filepath.Join(dir, pid)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, "comm"), []byte(comm+"\n"), 0o644)
		os.WriteFile(filepath.Join(p, "stat"), []byte(stat), 0o644)
	}
	fields := func(u, s, cu, cs string) string {
		return " S 1 1 1 0 -1 0 0 0 0 0 " + u + " " + s + " " + cu + " " + cs + " 20 0 1 0 1 1 1"
	}
	proc("100", "postgres", "100 (postgres)"+fields("10", "5", "1000", "200")) // postmaster, with reaped backends
	proc("101", "postgres", "101 (postgres)"+fields("40", "2", "0", "0"))
	proc("102", "bash", "102 (bash)"+fields("999", "999", "0", "0"))
	proc("103", "postgresql", "103 (postgresql)"+fields("999", "0", "0", "0"))
	os.MkdirAll(filepath.Join(dir, "self"), 0o755)
	os.WriteFile(filepath.Join(dir, "uptime"), []byte("1 1"), 0o644)
	ticks, procs, err := postgresCPUTicks(dir)
	if err != nil || ticks != 1257 || procs != 2 {
		t.Fatalf("postgresCPUTicks = %d, %d, %v; want 1257, 2", ticks, procs, err)
	}
	if _, _, err := postgresCPUTicks(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing /proc is no error")
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tloadtest\nVmPeak:\t 1300000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   80000 kB\nThreads:\t12\n"
	for _, c := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"VmHWM", 81234 * 1024, true},
		{"VmRSS", 80000 * 1024, true},
		{"Threads", 0, false},
		{"VmSwap", 0, false},
		{"Vm", 0, false},
	} {
		got, ok := parseStatusKB(status, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("parseStatusKB(%s) = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestPreloadDesign(t *testing.T) {
	for _, n := range []int{180, 181, 182, 3000} {
		smiths := 0
		for i := range n {
			if f, g := preloadPatient(i); f == "Smith" && g == "female" {
				smiths++
			} else if strings.HasPrefix(strings.ToLower(f), "smith") || g == "female" {
				t.Fatalf("Patient %d (%s, %s) would also match family=smith or gender=female", i, f, g)
			}
		}
		if smiths != femaleSmiths(n) {
			t.Errorf("%d Patients: %d female Smiths, femaleSmiths says %d", n, smiths, femaleSmiths(n))
		}
	}
	if femaleSmiths(3000) != 2000 {
		t.Errorf("femaleSmiths(3000) = %d, want 2000", femaleSmiths(3000))
	}
	var p struct {
		ResourceType string
		Identifier   []struct{ System, Value string }
		Name         []struct{ Family string }
		Gender       string
		BirthDate    string
	}
	if err := json.Unmarshal([]byte(patientJSON(2999, `O"Brien`, "male")), &p); err != nil {
		t.Fatal(err)
	}
	if p.ResourceType != "Patient" || p.Identifier[0].System != "urn:load" || p.Identifier[0].Value != "2999" ||
		p.Name[0].Family != `O"Brien` || p.Gender != "male" || !validDate(p.BirthDate) {
		t.Errorf("patientJSON: %+v", p)
	}
	for i := range 5000 {
		var d struct{ BirthDate string }
		if err := json.Unmarshal([]byte(patientJSON(i, "x", "male")), &d); err != nil {
			t.Fatalf("Patient %d: %v", i, err)
		}
		if !validDate(d.BirthDate) {
			t.Fatalf("Patient %d: birthDate %q", i, d.BirthDate)
		}
	}
}

func validDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func TestCheckEntries(t *testing.T) {
	parse := func(s string) bundle {
		var b bundle
		if err := json.Unmarshal([]byte(s), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := parse(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"a"}}]}`)
	none := parse(`{"resourceType":"Bundle","type":"searchset","total":1}`)
	outcome := parse(`{"resourceType":"OperationOutcome"}`)
	for _, c := range []struct {
		b    bundle
		want int
		ok   bool
	}{
		{one, 1, true}, {one, 20, false}, {none, 0, true}, {none, 1, false}, {outcome, 0, false},
	} {
		if err := checkEntries("/Patient?x", c.b, c.want); (err == nil) != c.ok {
			t.Errorf("checkEntries(%+v, %d) = %v", c.b, c.want, err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.clients != 16 || o.consoleClients != 64 || o.n != 3000 || o.duration != 10*time.Second ||
		o.warmup != time.Second || o.preload != 3000 || o.pgbenchTime != 10*time.Second || o.pgbenchTPS != 0 || o.strict {
		t.Errorf("defaults: %+v", o)
	}
	if o, err := parseOptions([]string{"-workers", "8"}, io.Discard); err != nil || o.clients != 8 {
		t.Errorf("-workers 8: %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-n", "0"}, {"-n", "2000000"}, {"-duration", "0s"}, {"-duration", "11m"}, {"-clients", "0"},
		{"-console-clients", "5000"}, {"-preload", "10"}, {"-pgbench-time", "0s"}, {"-pgbench-tps", "-1"}, {"extra"},
	} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
