package web_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/views/paths"
	"enclave/web"
	"enclave/web/webtest"

	"github.com/labstack/echo/v4"
)

// declaredRoute is one route constant of package paths, read from its
// source: Go cannot list a package's constants any other way.
type declaredRoute struct {
	Name, Type, Pattern string
}

// arity is how many arguments the route's type takes.
func (d declaredRoute) arity() int {
	if d.Type == "Files" {
		return 1
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(d.Type, "Route"))
	return n
}

// url builds the route's URL from args with its typed builder.
func (d declaredRoute) url(args []string) string {
	switch d.Type {
	case "Route0":
		return paths.Route0(d.Pattern).URL()
	case "Route1":
		return paths.Route1(d.Pattern).URL(args[0])
	case "Route2":
		return paths.Route2(d.Pattern).URL(args[0], args[1])
	case "Route3":
		return paths.Route3(d.Pattern).URL(args[0], args[1], args[2])
	case "Route4":
		return paths.Route4(d.Pattern).URL(args[0], args[1], args[2], args[3])
	}
	return paths.Files(d.Pattern).URL(args[0])
}

var routeTypes = map[string]bool{"Route0": true, "Route1": true, "Route2": true, "Route3": true, "Route4": true, "Files": true}

// declaredRoutes reads every constant of a route type in package paths.
func declaredRoutes(t *testing.T) []declaredRoute {
	t.Helper()
	files, err := filepath.Glob("../views/paths/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []declaredRoute
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, spec := range gd.Specs {
					out = append(out, routeConstants(t, spec.(*ast.ValueSpec))...)
				}
			}
		}
	}
	if len(out) < 40 {
		t.Fatalf("only %d routes declared in views/paths: the test is not reading what it should", len(out))
	}
	return out
}

func routeConstants(t *testing.T, spec *ast.ValueSpec) []declaredRoute {
	typ, ok := spec.Type.(*ast.Ident)
	if !ok || !routeTypes[typ.Name] {
		return nil
	}
	var out []declaredRoute
	for i, name := range spec.Names {
		lit, ok := spec.Values[i].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("paths.%s: write the pattern as one string literal, so it reads as echo sees it", name.Name)
			continue
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, declaredRoute{Name: name.Name, Type: typ.Name, Pattern: pattern})
	}
	return out
}

// TestEveryRouteIsDeclaredInPaths: the router registers exactly the
// patterns that package paths declares, so every URL a page or redirect
// builds has a route, and every route is built in one place.
func TestEveryRouteIsDeclaredInPaths(t *testing.T) {
	// /metrics is on the public listener only with a token.
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) { c.MetricsToken = "a-token-for-the-route-table" })
	declared := map[string]string{}
	for _, d := range declaredRoutes(t) {
		if other, dup := declared[d.Pattern]; dup {
			t.Errorf("paths.%s and paths.%s are both %s", d.Name, other, d.Pattern)
		}
		declared[d.Pattern] = d.Name
	}
	registered := map[string]bool{}
	for _, r := range app.Server.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // echo's catch-alls below each group's prefix
		}
		registered[r.Path] = true
		if _, ok := declared[r.Path]; !ok {
			t.Errorf("%s %s is registered but not declared in views/paths", r.Method, r.Path)
		}
	}
	for pattern, name := range declared {
		if !registered[pattern] {
			t.Errorf("paths.%s (%s) is declared but no route serves it", name, pattern)
		}
	}
}

// TestBuiltURLsRouteBack: each builder, given parameters with a "/", a "?"
// and a space, makes a URL that the router takes to the builder's own
// route with exactly those parameters.
func TestBuiltURLsRouteBack(t *testing.T) {
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) { c.MetricsToken = "a-token-for-the-route-table" })
	method := map[string]string{} // a method each pattern is registered for
	for _, r := range app.Server.Routes() {
		if r.Method != echo.RouteNotFound {
			method[r.Path] = r.Method
		}
	}
	for _, d := range declaredRoutes(t) {
		params := strings.Count(d.Pattern, "/:") + strings.Count(d.Pattern, "*")
		if params != d.arity() {
			t.Errorf("paths.%s is a %s but %s has %d parameters", d.Name, d.Type, d.Pattern, params)
			continue
		}
		var args []string
		for i := range params {
			args = append(args, fmt.Sprintf("a/%d?b c", i))
		}
		u := d.url(args)
		pattern, got := app.Server.RouteOf(method[d.Pattern], u)
		if pattern != d.Pattern || strings.Join(got, "|") != strings.Join(args, "|") {
			t.Errorf("paths.%s built %q, which routes to %s with %q; want %s with %q", d.Name, u, pattern, got, d.Pattern, args)
		}
	}
}
