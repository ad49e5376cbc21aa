package handlers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"enclave/handlers"
	"enclave/models"
)

// The server-wide store serves every narrow interface the handlers hold.
var (
	_ handlers.Accounts            = models.System{}
	_ handlers.ClientAuthenticator = models.System{}
)

// TestHandlersStayInTheirScope reads the source of handlers/ and views/ and
// fails if any of it could reach project data around the scope a project
// route receives: by importing a database package, by naming the
// server-wide store or a way to open a project's store by id, or by calling
// a domain package's constructor (kit.Bind, resources.For, accounts.New,
// ...), which binds a store to whatever handle and project it is given.
func TestHandlersStayInTheirScope(t *testing.T) {
	banned := map[string]string{
		"models.System":     "the server-wide store (use a narrow interface from stores.go)",
		"models.NewSystem":  "the server-wide store",
		"models.ForProject": "a project's store opened by id",
		"models.Tenant":     "a project's store outside the scope (use sc.Store())",
		"models.Open":       "a database handle",
	}
	checked := 0
	for _, dir := range []string{".", "../views", "../views/forms"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			domains := map[string]bool{}
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(path, "gorm.io/") || path == "database/sql" || strings.HasPrefix(path, "github.com/jackc/") {
					t.Errorf("%s imports %s: handlers and views reach data only through models", name, path)
				}
				if strings.HasPrefix(dir, "../views") && (path == "enclave/models" || strings.HasPrefix(path, "enclave/models/")) {
					t.Errorf("%s imports %s: views take view models, never stores", name, path)
				}
				if strings.HasPrefix(path, "enclave/models/") && path != "enclave/models/fhir" {
					domains[importName(imp, path)] = true
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok && domains[pkg.Name] && constructs(sel.Sel.Name) {
							t.Errorf("%s: %s calls %s.%s: domain stores are built in models, from a checked scope", name, fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
						}
					}
				}
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok {
					if why, bad := banned[pkg.Name+"."+sel.Sel.Name]; bad {
						t.Errorf("%s: %s names %s.%s, %s", name, fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name, why)
					}
				}
				if sel.Sel.Name == "Tenant" || sel.Sel.Name == "ResolveCaller" {
					t.Errorf("%s: %s calls .%s: project stores come only from the route's scope", name, fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked: the test is not looking where it should", checked)
	}
}

// importName is the name a file uses for an imported package.
func importName(imp *ast.ImportSpec, path string) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	return filepath.Base(path)
}

// constructs reports whether a domain package's function of this name
// builds a store (For, Bind, New...).
func constructs(fn string) bool {
	return fn == "For" || fn == "Bind" || strings.HasPrefix(fn, "New")
}
