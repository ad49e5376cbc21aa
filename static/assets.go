package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"enclave/views/paths"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// Asset is one file ready to serve.
type Asset struct {
	Name   string // as embedded, e.g. "css/app.css"
	Hashed string // with a digest of the content, e.g. "css/app.0123456789ab.css"
	Digest string // the digest in Hashed, also the ETag
	Type   string // Content-Type
	Body   []byte
	// Gzip and Brotli are the compressed bodies, nil when compressing does
	// not make the file smaller.
	Gzip, Brotli []byte
}

// Set is a folder of assets, found by plain or hashed name.
type Set struct {
	byName   map[string]*Asset
	byHashed map[string]*Asset
}

// NewSet reads every file of files, names it by its content and compresses
// it.
func NewSet(files fs.FS) (*Set, error) {
	s := &Set{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		a, err := newAsset(name, body)
		if err != nil {
			return err
		}
		s.byName[a.Name] = a
		s.byHashed[a.Hashed] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	for hashed := range s.byHashed {
		if _, clash := s.byName[hashed]; clash {
			return nil, fmt.Errorf("static: %s is both a file and a hashed name", hashed)
		}
	}
	return s, nil
}

func newAsset(name string, body []byte) (*Asset, error) {
	hashed, digest := hashedName(name, body)
	typ := mime.TypeByExtension(path.Ext(name))
	if typ == "" {
		typ = "application/octet-stream"
	}
	a := &Asset{Name: name, Hashed: hashed, Digest: digest, Type: typ, Body: body}
	var err error
	a.Gzip, err = squeeze(body, func(w io.Writer) io.WriteCloser {
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // a valid constant level cannot fail
		return zw
	})
	if err != nil {
		return nil, fmt.Errorf("static: gzip %s: %w", name, err)
	}
	a.Brotli, err = squeeze(body, func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterLevel(w, brotli.BestCompression)
	})
	if err != nil {
		return nil, fmt.Errorf("static: brotli %s: %w", name, err)
	}
	return a, nil
}

// squeeze compresses body, or returns nil when that does not make it smaller.
func squeeze(body []byte, compressor func(io.Writer) io.WriteCloser) ([]byte, error) {
	var buf bytes.Buffer
	w := compressor(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(body) {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// HashedName puts a digest of content before name's extension:
// "css/app.css" becomes "css/app.0123456789ab.css". Other content gives
// another name, so a browser may keep a hashed file for ever.
func HashedName(name string, content []byte) string {
	hashed, _ := hashedName(name, content)
	return hashed
}

func hashedName(name string, content []byte) (hashed, digest string) {
	sum := sha256.Sum256(content)
	digest = hex.EncodeToString(sum[:6])
	dir, file := path.Split(name)
	ext := path.Ext(file)
	return dir + strings.TrimSuffix(file, ext) + "." + digest + ext, digest
}

// Lookup finds an asset by its plain or its hashed name; hashed says which
// one matched. It returns nil for anything else, folders included.
func (s *Set) Lookup(name string) (a *Asset, hashed bool) {
	if a, ok := s.byHashed[name]; ok {
		return a, true
	}
	return s.byName[name], false
}

// URL is the hashed path of a file under /static/. A name the set does not
// hold keeps its plain path, which answers 404.
func (s *Set) URL(name string) string {
	if a, ok := s.byName[name]; ok {
		return paths.Static.URL(a.Hashed)
	}
	return paths.Static.URL(name)
}

// Embedded returns Files as a set, prepared once, on first use.
var Embedded = sync.OnceValue(func() *Set {
	s, err := NewSet(Files)
	if err != nil {
		panic(err)
	}
	return s
})

// Path is the URL of an embedded file under its hashed name, for the views:
// Path("css/app.css") is "/static/css/app.0123456789ab.css".
func Path(name string) string { return Embedded().URL(name) }
