package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const metricsToken = "metrics-token-0123456789"

// metricFamilies parses a Prometheus text exposition.
func metricFamilies(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return fams
}

// sample returns the value of the series of family name whose labels include
// want: a counter's or gauge's value, a histogram's sample count.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// scrape fetches the public /metrics with the token.
func scrape(t *testing.T, app *webtest.App) map[string]*dto.MetricFamily {
	t.Helper()
	c := app.Client()
	c.Header("Authorization", "Bearer "+metricsToken)
	r := c.Get("/metrics").Status(http.StatusOK)
	if ct := r.Resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("metrics Content-Type %q", ct)
	}
	return metricFamilies(t, r.Body)
}

// TestMetricsAbsentByDefault: with neither ENCLAVE_METRICS_TOKEN nor
// ENCLAVE_METRICS_ADDR, no one gets metrics, bearer or not.
func TestMetricsAbsentByDefault(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.Client().Get("/metrics").Status(http.StatusNotFound).NotContains("enclave_http")
			c := app.Client()
			c.Header("Authorization", "Bearer ")
			c.Get("/metrics").Status(http.StatusNotFound).NotContains("enclave_http")
			c.Header("Authorization", "Bearer "+metricsToken)
			c.Get("/metrics").Status(http.StatusNotFound).NotContains("enclave_http")
		})
	}
}

// TestMetricsWithToken: the public /metrics answers only the token's
// bearer, and counts requests by route pattern and status, never by path.
func TestMetricsWithToken(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.NewWith(t, db, func(c *web.Config) { c.MetricsToken = metricsToken })

			refused := map[string]string{
				"no header":     "",
				"wrong token":   "Bearer " + metricsToken + "x",
				"token prefix":  "Bearer " + metricsToken[:len(metricsToken)-1],
				"empty bearer":  "Bearer ",
				"other scheme":  "Basic " + metricsToken,
				"token alone":   metricsToken,
				"in query only": "",
			}
			for name, auth := range refused {
				c := app.Client()
				if auth != "" {
					c.Header("Authorization", auth)
				}
				path := "/metrics"
				if name == "in query only" {
					path += "?token=" + metricsToken
				}
				c.Get(path).Status(http.StatusNotFound).NotContains("enclave_http")
			}

			admin, project := app.SignUp("ada@example.org", "Alpha")
			for range 3 {
				admin.Get("/projects/" + project).Status(http.StatusOK)
			}
			admin.Get("/projects/00000000-0000-0000-0000-000000000000").Status(http.StatusNotFound)
			app.Client().Get("/no/such/page").Status(http.StatusNotFound)
			app.Client().Do("BREW", "/healthz", nil, "")

			fams := scrape(t, app)
			for _, tc := range []struct {
				labels map[string]string
				want   float64
			}{
				{map[string]string{"route": "/projects/:project", "method": "GET", "status": "200"}, 3},
				{map[string]string{"route": "/projects/:project", "method": "GET", "status": "404"}, 1},
				{map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1},
				{map[string]string{"route": "/metrics", "method": "GET", "status": "404"}, float64(len(refused))},
			} {
				got, ok := sample(fams, "enclave_http_requests_total", tc.labels)
				if !ok || got != tc.want {
					t.Errorf("enclave_http_requests_total%v = %v (present %v), want %v", tc.labels, got, ok, tc.want)
				}
			}
			if n, ok := sample(fams, "enclave_http_request_duration_seconds", map[string]string{"route": "/projects/:project", "method": "GET"}); !ok || n != 4 {
				t.Errorf("duration histogram of /projects/:project counts %v (present %v), want 4", n, ok)
			}
			if _, ok := sample(fams, "enclave_http_requests_total", map[string]string{"method": "other"}); !ok {
				t.Error("a request with an unknown method is not counted under method=other")
			}
			for _, m := range fams["enclave_http_requests_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if strings.Contains(l.GetValue(), project) || strings.Contains(l.GetValue(), "no/such") || l.GetValue() == "BREW" {
						t.Errorf("a label holds a raw path or method: %s=%q", l.GetName(), l.GetValue())
					}
				}
			}

			// The database pool and the runtime.
			for _, name := range []string{"go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections",
				"go_sql_wait_count_total", "go_sql_wait_duration_seconds_total"} {
				if _, ok := sample(fams, name, map[string]string{"db_name": "enclave"}); !ok {
					t.Errorf("pool metric %s is missing", name)
				}
			}
			if n, ok := sample(fams, "go_sql_max_open_connections", map[string]string{"db_name": "enclave"}); !ok || n < 1 {
				t.Errorf("go_sql_max_open_connections = %v (present %v)", n, ok)
			}
			if n, ok := sample(fams, "go_sql_open_connections", map[string]string{"db_name": "enclave"}); !ok || n < 1 {
				t.Errorf("go_sql_open_connections = %v after requests that used the database", n)
			}
			for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
				if _, ok := fams[name]; !ok {
					t.Errorf("runtime metric %s is missing", name)
				}
			}
		})
	}
}

// TestMetricsOutboxBacklog: the backlog gauge appears once its counter is
// set, and a failing count drops it from the scrape and is logged.
func TestMetricsOutboxBacklog(t *testing.T) {
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) { c.MetricsToken = metricsToken })
	if _, ok := scrape(t, app)["enclave_outbox_backlog"]; ok {
		t.Error("enclave_outbox_backlog is exported before anything counts it")
	}
	app.Server.SetOutboxBacklog(func(context.Context) (int64, error) { return 7, nil })
	if n, ok := sample(scrape(t, app), "enclave_outbox_backlog", nil); !ok || n != 7 {
		t.Errorf("enclave_outbox_backlog = %v (present %v), want 7", n, ok)
	}
	app.Server.SetOutboxBacklog(func(context.Context) (int64, error) { return 0, errors.New("outbox-unreadable") })
	if _, ok := scrape(t, app)["enclave_outbox_backlog"]; ok {
		t.Error("enclave_outbox_backlog is exported although counting failed")
	}
	if !strings.Contains(app.Logs(), "outbox-unreadable") {
		t.Error("the failed count is not logged")
	}
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// get fetches url and returns its status and body, retrying while the
// listener comes up.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	var err error
	for range 100 {
		var resp *http.Response
		if resp, err = http.Get(url); err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil {
				t.Fatalf("%s: %v", url, rerr)
			}
			return resp.StatusCode, string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v", url, err)
	return 0, ""
}

// TestMetricsListener: ENCLAVE_METRICS_ADDR serves /metrics, and nothing
// else, on a listener of its own that Run starts and stops with the server;
// the public listener still has no /metrics.
func TestMetricsListener(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			cfg := web.Config{Addr: freeAddr(t), MetricsAddr: freeAddr(t), DataDir: t.TempDir(),
				SessionKey: []byte("0123456789abcdef0123456789abcdef")}
			srv := web.New(cfg, db.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					cancel()
					<-done
				}
			})

			pub, metrics := "http://"+cfg.Addr, "http://"+cfg.MetricsAddr
			for range 2 {
				if code, _ := get(t, pub+"/healthz"); code != http.StatusOK {
					t.Fatalf("healthz: %d", code)
				}
			}
			if code, body := get(t, pub+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "enclave_http") {
				t.Errorf("public /metrics: %d", code)
			}
			code, body := get(t, metrics+"/metrics")
			if code != http.StatusOK {
				t.Fatalf("metrics listener /metrics: %d\n%s", code, body)
			}
			fams := metricFamilies(t, body)
			if n, ok := sample(fams, "enclave_http_requests_total", map[string]string{"route": "/healthz", "method": "GET", "status": "200"}); !ok || n != 2 {
				t.Errorf("healthz counted %v times (present %v), want 2", n, ok)
			}
			if _, ok := sample(fams, "go_sql_open_connections", map[string]string{"db_name": "enclave"}); !ok {
				t.Error("pool metrics missing on the metrics listener")
			}
			for _, path := range []string{"/healthz", "/", "/signin"} {
				if code, _ := get(t, metrics+path); code != http.StatusNotFound {
					t.Errorf("metrics listener %s: %d, want 404", path, code)
				}
			}

			cancel()
			stopped = true
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v after shutdown", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("server did not shut down")
			}
			if resp, err := http.Get(metrics + "/metrics"); err == nil {
				resp.Body.Close()
				t.Error("the metrics listener still answers after shutdown")
			}
		})
	}
}

// TestMetricsListenerTaken: a metrics address in use stops Run with an error
// and closes the public listener too.
func TestMetricsListenerTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := web.Config{Addr: freeAddr(t), MetricsAddr: taken.Addr().String(), DataDir: t.TempDir(),
		SessionKey: []byte("0123456789abcdef0123456789abcdef")}
	srv := web.New(cfg, testdb.SQLite(t).DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("Run returned %v, want the taken address's error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run kept going with its metrics address taken")
	}
	if resp, err := http.Get("http://" + cfg.Addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the public listener still answers after Run failed")
	}
}

func TestMetricsConfig(t *testing.T) {
	env := map[string]string{"ENCLAVE_METRICS_ADDR": " 127.0.0.1:9090 ", "ENCLAVE_METRICS_TOKEN": metricsToken}
	cfg := web.ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.MetricsAddr != "127.0.0.1:9090" || cfg.MetricsToken != metricsToken {
		t.Fatalf("from env: addr %q token %q", cfg.MetricsAddr, cfg.MetricsToken)
	}
	if err := cfg.CheckMetrics(); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
	if err := web.ConfigFromEnv(func(string) string { return "" }).CheckMetrics(); err != nil {
		t.Errorf("no metrics refused: %v", err)
	}
	for name, c := range map[string]web.Config{
		"short token":    {MetricsToken: "short"},
		"spaced token":   {MetricsToken: "metrics token 0123456789"},
		"no port":        {MetricsAddr: "127.0.0.1"},
		"public address": {Addr: "127.0.0.1:8080", MetricsAddr: "127.0.0.1:8080"},
	} {
		if err := c.CheckMetrics(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
