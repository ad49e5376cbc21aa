// Command loadtest measures the FHIR API: it starts Enclave in-process on
// 127.0.0.1, creates a user, a project and a console session, then runs
// create, read and search phases with a few concurrent workers and reports
// requests per second and p50/p99 latency for each.
//
//	go run ./cmd/loadtest                       # PostgreSQL at the local default DSN
//	go run ./cmd/loadtest -database sqlite      # embedded SQLite in a temporary folder
//	go run ./cmd/loadtest -n 5000 -duration 20s -workers 8
//
// Every phase stops after -n requests or -duration, whichever comes first.
// On PostgreSQL it works in a fresh schema that it drops at the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"enclave/models"
	"enclave/web"

	"gorm.io/gorm"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	database string
	workers  int
	n        int
	duration time.Duration
}

func run() error {
	dsn := os.Getenv("ENCLAVE_LOADTEST_DATABASE_URL")
	if dsn == "" {
		dsn = defaultDSN
	}
	var o options
	flag.StringVar(&o.database, "database", dsn, `PostgreSQL URL, or "sqlite" (ENCLAVE_LOADTEST_DATABASE_URL)`)
	flag.IntVar(&o.workers, "workers", 4, "concurrent clients")
	flag.IntVar(&o.n, "n", 2000, "at most this many requests per phase")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "at most this long per phase")
	flag.Parse()
	if o.workers < 1 || o.n < 1 || o.duration <= 0 || o.n > 1_000_000 || o.duration > 10*time.Minute {
		return errors.New("-workers and -n must be positive (n at most 1000000) and -duration between 0 and 10m")
	}

	ctx := context.Background()
	db, label, cleanup, err := openDatabase(ctx, o.database)
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
	cfg := web.Config{DataDir: os.TempDir(), SessionKey: []byte(randomHex(32))}
	srv := &http.Server{Handler: web.New(cfg, db, slog.New(slog.DiscardHandler)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	client, project, err := signUp(ctx, db, base)
	if err != nil {
		return err
	}
	api := &apiClient{http: client, base: base + "/fhir/R4", project: project}

	fmt.Printf("Enclave loadtest: %s, %d workers, each phase at most %d requests or %s, server %s\n",
		label, o.workers, o.n, o.duration, base)
	var ids []string
	var idsMu sync.Mutex
	phases := []struct {
		name string
		do   func(i int) error
	}{
		{"create", func(i int) error {
			body := fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Load%d","given":["Test"]}],"gender":"%s","birthDate":"19%02d-01-01","identifier":[{"system":"urn:load","value":"%d"}]}`,
				i, []string{"female", "male"}[i%2], i%100, i)
			var out struct{ ID string }
			if err := api.do(http.MethodPost, "/Patient", body, http.StatusCreated, &out); err != nil {
				return err
			}
			idsMu.Lock()
			ids = append(ids, out.ID)
			idsMu.Unlock()
			return nil
		}},
		{"read", func(i int) error {
			return api.do(http.MethodGet, "/Patient/"+ids[i%len(ids)], "", http.StatusOK, nil)
		}},
		{"search", func(i int) error {
			n := i % max(1, len(ids))
			q := []string{
				fmt.Sprintf("family=load%d", n),
				fmt.Sprintf("identifier=urn:load|%d", n),
				fmt.Sprintf("gender=female&birthdate=ge19%02d&_count=20", n%100),
			}[i%3]
			return api.do(http.MethodGet, "/Patient?"+q, "", http.StatusOK, nil)
		}},
	}
	fmt.Printf("%-8s %8s %8s %10s %10s %10s\n", "phase", "requests", "errors", "req/s", "p50", "p99")
	for _, p := range phases {
		if p.name != "create" && len(ids) == 0 {
			return errors.New("no resource was created; nothing to read")
		}
		if p.name == "read" && strings.HasPrefix(label, "PostgreSQL") {
			// Tables filled seconds ago have no planner statistics yet, and
			// PostgreSQL then picks nested loops that take seconds per search.
			// Autovacuum analyzes them within a minute in a running server;
			// do now what it would do.
			for _, t := range []string{"resources", "resource_strings", "resource_tokens", "resource_dates", "resource_references"} {
				if err := db.Exec("ANALYZE " + t).Error; err != nil {
					return err
				}
			}
			fmt.Println("(ANALYZE run after the create phase, as autovacuum would)")
		}
		r := runPhase(o, p.do)
		fmt.Printf("%-8s %8d %8d %10.1f %10s %10s\n", p.name, r.count, r.errors, r.rate, r.p50, r.p99)
		if r.firstErr != nil {
			fmt.Printf("         first error: %v\n", r.firstErr)
		}
	}
	return nil
}

type result struct {
	count, errors int
	rate          float64
	p50, p99      time.Duration
	firstErr      error
}

// runPhase runs do with o.workers goroutines until o.n calls were made or
// o.duration passed.
func runPhase(o options, do func(i int) error) result {
	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var res result
	deadline := time.Now().Add(o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range o.workers {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					break
				}
				t0 := time.Now()
				err := do(i)
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	res.count = len(latencies)
	res.rate = float64(res.count) / elapsed.Seconds()
	res.p50, res.p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, i)].Round(10 * time.Microsecond)
}

// openDatabase opens a fresh SQLite file or a fresh PostgreSQL schema.
func openDatabase(ctx context.Context, database string) (*gorm.DB, string, func(), error) {
	if database == "sqlite" {
		dir, err := os.MkdirTemp("", "enclave-loadtest-")
		if err != nil {
			return nil, "", nil, err
		}
		db, err := models.OpenSQLite(filepath.Join(dir, "enclave.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, "", nil, err
		}
		return db, "SQLite", func() { os.RemoveAll(dir) }, nil
	}
	u, err := url.Parse(database)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, "", nil, errors.New(`-database must be a postgres:// URL or "sqlite"`)
	}
	if host := u.Hostname(); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return nil, "", nil, fmt.Errorf("refusing to load-test a database on %s: loopback only", host)
	}
	admin, err := models.Open(ctx, database, "")
	if err != nil {
		return nil, "", nil, err
	}
	schema := "loadtest_" + randomHex(6)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return nil, "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := models.Open(ctx, u.String(), "")
	drop := func() {
		if db != nil {
			if s, err := db.DB(); err == nil {
				s.Close()
			}
		}
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	}
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	return db, "PostgreSQL (schema " + schema + ", dropped afterwards)", drop, nil
}

// signUp makes a user and a project in the store and signs in through the
// console's form, returning a client holding the session cookie.
func signUp(ctx context.Context, db *gorm.DB, base string) (*http.Client, string, error) {
	sys := models.NewSystem(db)
	password := randomHex(12)
	u, err := sys.CreateUser(ctx, models.NewUser{FirstName: "Load", LastName: "Test", Email: "loadtest@example.org", Password: password})
	if err != nil {
		return nil, "", err
	}
	p, err := sys.CreateProject(ctx, u.ID, models.NewProject{Name: "Load test"})
	if err != nil {
		return nil, "", err
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/signin")
	if err != nil {
		return nil, "", err
	}
	resp.Body.Close()
	baseURL, _ := url.Parse(base)
	token := ""
	for _, c := range jar.Cookies(baseURL) {
		if c.Name == "enclave_csrf" {
			token = c.Value
		}
	}
	resp, err = client.PostForm(base+"/signin", url.Values{"_csrf": {token}, "email": {"loadtest@example.org"}, "password": {password}})
	if err != nil {
		return nil, "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, "", fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	return client, p.ID, nil
}

type apiClient struct {
	http    *http.Client
	base    string
	project string
}

func (a *apiClient) do(method, path, body string, want int, out any) error {
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Enclave-Project", a.project)
	req.Header.Set("Accept", "application/fhir+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
