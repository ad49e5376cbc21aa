package paths_test

import (
	"net/url"
	"strings"
	"testing"

	"enclave/views/paths"
)

// The router's side (every route declared, every declaration routed, each
// URL routing back to its pattern) is web/paths_test.go.

func TestBuildersEscapeParameters(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{paths.SignIn.URL(), "/signin"},
		{paths.Project.URL("p1"), "/projects/p1"},
		{paths.Project.URL("a/b"), "/projects/a%2Fb"},
		{paths.Settings.URL("a?b"), "/projects/a%3Fb/settings"},
		{paths.Member.URL("p1", "a b"), "/projects/p1/members/a%20b"},
		{paths.RemoveMember.URL("p/1", "m?1"), "/projects/p%2F1/members/m%3F1/remove"},
		{paths.Resource.URL("p1", "Patient", "../x"), "/projects/p1/resources/Patient/..%2Fx"},
		{paths.ResourceVersion.URL("p1", "Patient", "a b", "2"), "/projects/p1/resources/Patient/a%20b/_history/2"},
		{paths.Invite.URL("tok#en"), "/invite/tok%23en"},
		{paths.FHIRVersion.URL("Patient", "x", "1"), "/fhir/R4/Patient/x/_history/1"},
		{paths.AdminMember.URL("p/1", "m 1"), "/admin/projects/p%2F1/members/m%201"},
		{paths.Static.URL("css/app.css"), "/static/css/app.css"},
		{paths.Static.URL("css/a b?.css"), "/static/css/a%20b%3F.css"},
	} {
		if c.got != c.want {
			t.Errorf("built %q, want %q", c.got, c.want)
		}
	}
}

// TestBuildersKeepThePatternsShape: a built URL has its pattern's segments,
// the literal ones as written and each parameter in its own, in order.
func TestBuildersKeepThePatternsShape(t *testing.T) {
	args := []string{"a/b", "c?d", "e f", "g%h"}
	for _, c := range []struct {
		route paths.Route
		url   string
	}{
		{paths.Root, paths.Root.URL()},
		{paths.EndSession, paths.EndSession.URL(args[0])},
		{paths.ResendInvitation, paths.ResendInvitation.URL(args[0], args[1])},
		{paths.EditResource, paths.EditResource.URL(args[0], args[1], args[2])},
		{paths.ResourceVersion, paths.ResourceVersion.URL(args[0], args[1], args[2], args[3])},
		{paths.FHIRTypeHistory, paths.FHIRTypeHistory.URL(args[0])},
	} {
		want := strings.Split(c.route.Pattern(), "/")
		got := strings.Split(c.url, "/")
		if len(got) != len(want) {
			t.Errorf("%s built %q: %d segments, want %d", c.route.Pattern(), c.url, len(got), len(want))
			continue
		}
		n := 0
		for i, w := range want {
			if !strings.HasPrefix(w, ":") {
				if got[i] != w {
					t.Errorf("%s built %q: segment %q, want %q", c.route.Pattern(), c.url, got[i], w)
				}
				continue
			}
			if v, err := url.PathUnescape(got[i]); err != nil || v != args[n] {
				t.Errorf("%s built %q: %s is %q, want %q", c.route.Pattern(), c.url, w, v, args[n])
			}
			n++
		}
	}
}
