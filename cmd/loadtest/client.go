package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/projects"
	"enclave/views/paths"

	"gorm.io/gorm"
)

const requestTimeout = 30 * time.Second

// loadUser is the user the load test makes and signs in as.
type loadUser struct {
	email, password, project string
}

// signUp makes a user and a project (with the user as its admin) in the store.
func signUp(ctx context.Context, db *gorm.DB) (loadUser, error) {
	sys := models.NewSystem(db)
	u := loadUser{email: "loadtest@example.org", password: randomHex(12)}
	created, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Load", LastName: "Test", Email: u.email, Password: u.password})
	if err != nil {
		return u, err
	}
	p, err := sys.CreateProject(ctx, created.ID, projects.NewProject{Name: "Load test"})
	if err != nil {
		return u, err
	}
	u.project = p.ID
	return u, nil
}

// client is an HTTP client with its own cookie jar and connection pool,
// which keeps an idle connection for each of conns concurrent callers and
// counts the connections it dials.
type client struct {
	http  *http.Client
	dials atomic.Int64
}

// signIn signs u in through the console's form on a new client.
func signIn(base string, u loadUser, conns int) (*client, error) {
	c := &client{}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	c.http = &http.Client{
		Jar:     jar,
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c.dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     5 * time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := c.get(base+paths.SignIn.URL(), http.StatusOK); err != nil {
		return nil, err
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	token := ""
	for _, k := range jar.Cookies(baseURL) {
		if k.Name == "enclave_csrf" {
			token = k.Value
		}
	}
	resp, err := c.http.PostForm(base+paths.SignIn.URL(), url.Values{"_csrf": {token}, "email": {u.email}, "password": {u.password}})
	if err != nil {
		return nil, err
	}
	drain(resp)
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	return c, nil
}

// get fetches a page, reads it whole, and checks the status.
func (c *client) get(u string, want int) error {
	resp, err := c.http.Get(u)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %d (%d bytes)", u, resp.StatusCode, n)
	}
	return nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// api calls the FHIR API of one project.
type api struct {
	c       *client
	base    string // .../fhir/R4
	project string
}

// do sends a request, checks the status and decodes the answer into out
// (when not nil).
func (a *api) do(method, path, body string, want int, out any) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("X-Enclave-Project", a.project)
	req.Header.Set("Accept", "application/fhir+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := a.c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// bundle is the part of a searchset Bundle the load test checks. It never
// looks at total, which a search may leave out.
type bundle struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Resource struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		} `json:"resource"`
	} `json:"entry"`
}

// search runs a search and checks that it found want entries.
func (a *api) search(query string, want int) (bundle, error) {
	var b bundle
	if err := a.do(http.MethodGet, query, "", http.StatusOK, &b); err != nil {
		return b, err
	}
	return b, checkEntries(query, b, want)
}

// checkEntries is an error unless b is a Bundle with want entries.
func checkEntries(query string, b bundle, want int) error {
	if b.ResourceType != "Bundle" {
		return fmt.Errorf("GET %s: answered a %q, not a Bundle", query, b.ResourceType)
	}
	if len(b.Entry) != want {
		return fmt.Errorf("GET %s: %d entries, want %d", query, len(b.Entry), want)
	}
	return nil
}
