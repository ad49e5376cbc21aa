package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"enclave/models"
)

const (
	pgbenchDatabase = "enclave_loadtest_pgbench"
	pgbenchScale    = 10
	pgbenchInitTime = 10 * time.Minute // bound on the one-time pgbench -i
)

// baseline is the select-only pgbench rate that the phases are compared with.
type baseline struct {
	tps  float64 // 0 when unknown
	note string  // how it was obtained, or why it is unknown
}

// parsePgbenchTPS finds the rate in pgbench's report: "tps = N (without
// initial connection time)" (PostgreSQL 14 and later), or "tps = N
// (excluding connections establishing)" from older versions.
func parsePgbenchTPS(out string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "tps = ")
		if !ok || !(strings.Contains(rest, "(without initial connection time)") || strings.Contains(rest, "(excluding connections establishing)")) {
			continue
		}
		num, _, _ := strings.Cut(rest, " ")
		tps, err := strconv.ParseFloat(num, 64)
		if err != nil || tps < 0 {
			return 0, fmt.Errorf("pgbench printed an unreadable rate %q", line)
		}
		return tps, nil
	}
	return 0, errors.New(`pgbench printed no "tps = N (without initial connection time)" line`)
}

// pgbenchConn turns a postgres:// URL into pgbench's connection flags and
// the environment that carries what flags cannot (password, sslmode).
func pgbenchConn(u *url.URL) (args, env []string) {
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	args = []string{"-h", host, "-p", port}
	if name := u.User.Username(); name != "" {
		args = append(args, "-U", name)
	}
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
	}
	if mode := u.Query().Get("sslmode"); mode != "" {
		env = append(env, "PGSSLMODE="+mode)
	}
	return args, env
}

// withDatabase is u naming another database on the same server.
func withDatabase(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	c.RawPath = ""
	q := c.Query()
	q.Del("search_path")
	c.RawQuery = q.Encode()
	return c.String()
}

// runPgbench measures select-only pgbench on the server of u: it makes the
// scratch database and initialises it once, then runs pgbench -S for
// seconds with clients connections.
func runPgbench(ctx context.Context, u *url.URL, clients, seconds int) (baseline, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return baseline{}, errors.New("pgbench is not on PATH")
	}
	admin, err := models.Open(ctx, u.String(), "")
	if err != nil {
		return baseline{}, err
	}
	defer closeDB(admin)
	var n int64
	if err := admin.Raw("SELECT count(*) FROM pg_database WHERE datname = ?", pgbenchDatabase).Scan(&n).Error; err != nil {
		return baseline{}, err
	}
	if n == 0 {
		if err := admin.Exec("CREATE DATABASE " + pgbenchDatabase).Error; err != nil {
			// Another load test may have made it meanwhile.
			if err2 := admin.Raw("SELECT count(*) FROM pg_database WHERE datname = ?", pgbenchDatabase).Scan(&n).Error; err2 != nil || n == 0 {
				return baseline{}, fmt.Errorf("create database %s: %w", pgbenchDatabase, err)
			}
		}
	}

	scratch, err := models.Open(ctx, withDatabase(u, pgbenchDatabase), "")
	if err != nil {
		return baseline{}, err
	}
	var ready bool
	err = scratch.Raw(`SELECT to_regclass('public.pgbench_accounts') IS NOT NULL
		AND to_regclass('public.pgbench_accounts_pkey') IS NOT NULL
		AND to_regclass('public.pgbench_branches') IS NOT NULL`).Scan(&ready).Error
	if err == nil && ready {
		var branches int64
		err = scratch.Raw("SELECT count(*) FROM pgbench_branches").Scan(&branches).Error
		ready = err == nil && branches == pgbenchScale
	}
	closeDB(scratch)
	if err != nil {
		return baseline{}, err
	}

	connArgs, env := pgbenchConn(u)
	if !ready {
		fmt.Printf("pgbench: initialising %s at scale %d (once; later runs reuse it)\n", pgbenchDatabase, pgbenchScale)
		args := append([]string{"-i", "-s", strconv.Itoa(pgbenchScale), "-q"}, connArgs...)
		if _, err := pgbench(ctx, pgbenchInitTime, env, append(args, pgbenchDatabase)...); err != nil {
			return baseline{}, err
		}
	}

	threads := min(2, clients)
	args := append([]string{"-S", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads), "-T", strconv.Itoa(seconds), "-n"}, connArgs...)
	out, err := pgbench(ctx, time.Duration(seconds)*time.Second+time.Minute, env, append(args, pgbenchDatabase)...)
	if err != nil {
		return baseline{}, err
	}
	tps, err := parsePgbenchTPS(out)
	if err != nil {
		return baseline{}, err
	}
	return baseline{tps: tps, note: fmt.Sprintf("pgbench -S -c %d -j %d -T %d -n on %s (scale %d)", clients, threads, seconds, pgbenchDatabase, pgbenchScale)}, nil
}

// pgbench runs the pgbench command for at most limit and returns its output.
func pgbench(ctx context.Context, limit time.Duration, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pgbench", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pgbench %s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
	}
	return string(out), nil
}

// lastLines is the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
