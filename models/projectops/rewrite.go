package projectops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"enclave/models/resources"
)

// idMap maps "Type/old-id" to the new id of every resource a clone copies.
type idMap map[string]string

// newID is the new id of typ/id, if the clone copies it.
func (m idMap) newID(typ, id string) (string, bool) {
	n, ok := m[typ+"/"+id]
	return n, ok
}

// stamp is what a copied resource's meta says: its new project, version
// and time.
type stamp struct {
	project     string
	versionID   string
	lastUpdated string
}

// rewriteResource turns the stored JSON of a resource into that of its
// copy: the id becomes newID, meta.project, meta.versionId and
// meta.lastUpdated take st's values, and every relative reference
// ("reference": "Type/id", also "Type/id/_history/n", in contained and
// nested elements alike) to a resource the clone copies points at its copy.
// References to anything else (absolute URLs, "#contained", resources left
// out by the clone's filters) are kept as they are.
//
// Stored resources are compact JSON written by the store (resourceType,
// id and meta first, see resources.EncodeStored), so the id and meta are
// replaced in place and references are found by their key. Anything else
// is decoded and encoded again, at a higher cost.
func rewriteResource(content []byte, typ, oldID, newID string, st stamp, ids idMap) ([]byte, error) {
	prefix := `{"resourceType":"` + typ + `","id":"` + oldID + `","meta":`
	if !bytes.HasPrefix(content, []byte(prefix)) {
		return rewriteDecoded(content, newID, st, ids)
	}
	rest := content[len(prefix):]
	end := objectEnd(rest)
	if end < 0 {
		return rewriteDecoded(content, newID, st, ids)
	}
	meta, err := restampMeta(rest[:end], st)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(content) + 16)
	out.WriteString(`{"resourceType":"` + typ + `","id":"` + newID + `","meta":`)
	out.Write(meta)
	rewriteReferences(&out, rest[end:], ids)
	return out.Bytes(), nil
}

// objectEnd is the length of the JSON object at the start of b (up to and
// including its closing brace), or -1 when b does not start with one.
func objectEnd(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return -1
	}
	return valueEnd(b)
}

// restampMeta is the meta object raw with st's project, versionId and
// lastUpdated. The store writes all three as plain strings, whose values
// are replaced where they stand, every other member kept byte for byte;
// a meta of another shape is decoded and encoded again.
func restampMeta(raw []byte, st stamp) ([]byte, error) {
	if out, ok := restampInPlace(raw, st); ok {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var meta map[string]any
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("clone: a stored meta does not decode: %w", err)
	}
	meta["project"], meta["versionId"], meta["lastUpdated"] = st.project, st.versionID, st.lastUpdated
	return json.Marshal(meta)
}

// restampInPlace is restampMeta for a compact meta object whose three
// stamped members are strings; ok is false for anything else.
func restampInPlace(raw []byte, st stamp) (out []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return nil, false
	}
	want := map[string]string{"project": st.project, "versionId": st.versionID, "lastUpdated": st.lastUpdated}
	buf := make([]byte, 0, len(raw)+64)
	buf = append(buf, '{')
	b, found := raw[1:len(raw)-1], 0
	for len(b) > 0 {
		// A member: "key":value, then a comma unless it is the last.
		if b[0] != '"' {
			return nil, false
		}
		k := bytes.IndexByte(b[1:], '"')
		if k < 0 || bytes.IndexByte(b[1:1+k], '\\') >= 0 || len(b) < k+3 || b[k+2] != ':' {
			return nil, false
		}
		key := string(b[1 : 1+k])
		b = b[k+3:]
		n := valueEnd(b)
		if n < 0 {
			return nil, false
		}
		if v, stamped := want[key]; stamped {
			if b[0] != '"' {
				return nil, false
			}
			found++
			buf = append(buf, '"')
			buf = append(buf, key...)
			buf = append(buf, `":`...)
			// Ids and instants: nothing in them to escape.
			buf = append(buf, '"')
			buf = append(buf, v...)
			buf = append(buf, '"')
		} else {
			buf = append(buf, '"')
			buf = append(buf, key...)
			buf = append(buf, `":`...)
			buf = append(buf, b[:n]...)
		}
		b = b[n:]
		if len(b) > 0 {
			if b[0] != ',' {
				return nil, false
			}
			buf = append(buf, ',')
			b = b[1:]
		}
	}
	if found != len(want) {
		return nil, false
	}
	return append(buf, '}'), true
}

// valueEnd is the length of the compact JSON value at the start of b: a
// string, an object or array (objectEnd's scan), or a literal up to the
// next comma; -1 when b starts with none.
func valueEnd(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	switch b[0] {
	case '"':
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '{', '[':
		depth, inString := 0, false
		for i := 0; i < len(b); i++ {
			c := b[i]
			switch {
			case inString && c == '\\':
				i++
			case inString && c == '"':
				inString = false
			case inString:
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return i
	}
	return len(b)
}

// referenceKey starts every reference in compact JSON. Inside a JSON string
// every quote is escaped, so these bytes can only be an object's key.
var referenceKey = []byte(`"reference":"`)

// rewriteReferences copies b to out with every mapped reference rewritten.
func rewriteReferences(out *bytes.Buffer, b []byte, ids idMap) {
	for {
		i := bytes.Index(b, referenceKey)
		if i < 0 {
			out.Write(b)
			return
		}
		start := i + len(referenceKey)
		out.Write(b[:start])
		b = b[start:]
		end := bytes.IndexByte(b, '"')
		if end < 0 {
			out.Write(b)
			return
		}
		value := b[:end]
		if bytes.IndexByte(value, '\\') < 0 {
			if ref, ok := mappedReference(string(value), ids); ok {
				out.WriteString(ref)
				b = b[end:]
				continue
			}
		}
		// An escaped quote ends nothing: copy up to it and look on.
		out.Write(b[:end])
		b = b[end:]
	}
}

// mappedReference rewrites a relative reference "Type/id" or
// "Type/id/_history/n" whose target the clone copies.
func mappedReference(ref string, ids idMap) (string, bool) {
	typ, rest, ok := strings.Cut(ref, "/")
	if !ok {
		return "", false
	}
	id, tail, _ := strings.Cut(rest, "/")
	if tail != "" && !strings.HasPrefix(tail, "_history/") {
		return "", false
	}
	n, ok := ids.newID(typ, id)
	if !ok {
		return "", false
	}
	if tail != "" {
		return typ + "/" + n + "/" + tail, true
	}
	return typ + "/" + n, true
}

// rewriteDecoded is rewriteResource for JSON in any other layout: it is
// decoded, changed and encoded the way the store encodes.
func rewriteDecoded(content []byte, newID string, st stamp, ids idMap) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("clone: a stored resource does not decode: %w", err)
	}
	rewriteTree(res, ids)
	res["id"] = newID
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["project"], meta["versionId"], meta["lastUpdated"] = st.project, st.versionID, st.lastUpdated
	res["meta"] = meta
	return resources.EncodeStored(res)
}

// rewriteTree rewrites every mapped "reference" string below v.
func rewriteTree(v any, ids idMap) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" {
				if ref, ok := mappedReference(s, ids); ok {
					x[k] = ref
				}
				continue
			}
			rewriteTree(e, ids)
		}
	case []any:
		for _, e := range x {
			rewriteTree(e, ids)
		}
	}
}

// criteriaReference finds the "Type/id" references in an access policy's
// criteria (e.g. "Observation?subject=Patient/123").
var criteriaReference = regexp.MustCompile(`\b([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})\b`)

// rewriteCriteria points the references of a policy's criteria at the
// copies of their targets.
func rewriteCriteria(criteria string, ids idMap) string {
	return criteriaReference.ReplaceAllStringFunc(criteria, func(ref string) string {
		if n, ok := mappedReference(ref, ids); ok {
			return n
		}
		return ref
	})
}
