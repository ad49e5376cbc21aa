package static_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"enclave/static"

	"github.com/andybalholm/brotli"
)

func TestHashedNameFollowsTheContent(t *testing.T) {
	css := static.HashedName("css/app.css", []byte(".btn{color:red}"))
	if !regexp.MustCompile(`^css/app\.[0-9a-f]{12}\.css$`).MatchString(css) {
		t.Fatalf("hashed name %q", css)
	}
	if again := static.HashedName("css/app.css", []byte(".btn{color:red}")); again != css {
		t.Errorf("same content, other name: %q and %q", css, again)
	}
	if changed := static.HashedName("css/app.css", []byte(".btn{color:blue}")); changed == css {
		t.Errorf("changed content kept the name %q", css)
	}
	if js := static.HashedName("js/htmx.min.js", nil); !regexp.MustCompile(`^js/htmx\.min\.[0-9a-f]{12}\.js$`).MatchString(js) {
		t.Errorf("the digest goes before the last extension: %q", js)
	}
	if bare := static.HashedName("LICENSE", nil); !regexp.MustCompile(`^LICENSE\.[0-9a-f]{12}$`).MatchString(bare) {
		t.Errorf("a name without extension: %q", bare)
	}
}

func TestSetFindsFilesByPlainAndHashedName(t *testing.T) {
	css := strings.Repeat(".btn{color:red}\n", 200)
	set, err := static.NewSet(fstest.MapFS{
		"css/app.css": {Data: []byte(css)},
		"tiny.txt":    {Data: []byte("x")},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := set.URL("css/app.css")
	if url != "/static/"+static.HashedName("css/app.css", []byte(css)) {
		t.Fatalf("URL %q", url)
	}
	a, hashed := set.Lookup(strings.TrimPrefix(url, "/static/"))
	if a == nil || !hashed || a.Name != "css/app.css" || a.Type != "text/css; charset=utf-8" {
		t.Fatalf("hashed lookup: %+v, hashed=%v", a, hashed)
	}
	if plain, hashed := set.Lookup("css/app.css"); plain != a || hashed {
		t.Errorf("plain lookup: %+v, hashed=%v", plain, hashed)
	}
	for _, missing := range []string{"css", "css/", "css/app.000000000000.css", "nope.css"} {
		if a, _ := set.Lookup(missing); a != nil {
			t.Errorf("Lookup(%q) found %s", missing, a.Name)
		}
	}
	if got := set.URL("nope.css"); got != "/static/nope.css" {
		t.Errorf("an unknown file keeps its plain path, got %q", got)
	}

	unzipped, err := gzip.NewReader(bytes.NewReader(a.Gzip))
	if err != nil {
		t.Fatal(err)
	}
	for enc, r := range map[string]io.Reader{"gzip": unzipped, "br": brotli.NewReader(bytes.NewReader(a.Brotli))} {
		got, err := io.ReadAll(r)
		if err != nil || string(got) != css {
			t.Errorf("%s body does not decompress to the file (%v)", enc, err)
		}
	}
	if len(a.Brotli) >= len(css) || len(a.Gzip) >= len(css) {
		t.Errorf("compressed %d bytes to gzip %d, brotli %d", len(css), len(a.Gzip), len(a.Brotli))
	}
	if tiny, _ := set.Lookup("tiny.txt"); tiny.Gzip != nil || tiny.Brotli != nil {
		t.Error("a file that compression makes larger keeps compressed bodies")
	}
}

func TestEmbeddedPaths(t *testing.T) {
	for _, name := range []string{"css/app.css", "js/htmx.min.js", "js/app.js", "favicon.svg"} {
		if p := static.Path(name); p == "/static/"+name || !strings.HasPrefix(p, "/static/") {
			t.Errorf("Path(%q) = %q, want a hashed name", name, p)
		}
	}
}
