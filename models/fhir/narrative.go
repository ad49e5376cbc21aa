package fhir

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// narrativeElements are the XHTML elements a narrative may hold (FHIR's
// txt-1: HTML 4.0's basic formatting, tables, lists, links and images).
var narrativeElements = map[atom.Atom]bool{}

func init() {
	for _, a := range []atom.Atom{atom.A, atom.Abbr, atom.Acronym, atom.B, atom.Big, atom.Blockquote, atom.Br, atom.Caption,
		atom.Cite, atom.Code, atom.Col, atom.Colgroup, atom.Dd, atom.Dfn, atom.Div, atom.Dl, atom.Dt, atom.Em, atom.H1, atom.H2,
		atom.H3, atom.H4, atom.H5, atom.H6, atom.Hr, atom.I, atom.Img, atom.Li, atom.Ol, atom.P, atom.Pre, atom.Q, atom.Samp,
		atom.Small, atom.Span, atom.Strong, atom.Sub, atom.Sup, atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th,
		atom.Thead, atom.Tr, atom.Tt, atom.Ul, atom.Var} {
		narrativeElements[a] = true
	}
}

// checkNarrative applies FHIR's txt-1 and txt-2 to a narrative's div: only
// the allowed elements, no event handler attributes (on…), no links or
// images to script (javascript:, vbscript:, data: other than images), and
// some text or image.
func checkNarrative(div string) []string {
	nodes, err := html.ParseFragment(strings.NewReader(strings.TrimSpace(div)), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return []string{"The narrative is not readable XHTML"}
	}
	var problems []string
	content := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			if !narrativeElements[n.DataAtom] {
				problems = append(problems, fmt.Sprintf("The narrative may not contain <%s> elements (txt-1)", n.Data))
			}
			if n.DataAtom == atom.Img {
				content = true
			}
			for _, a := range n.Attr {
				name, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(name, "on"):
					problems = append(problems, fmt.Sprintf("The narrative may not contain event handler attributes such as %s (txt-1)", a.Key))
				case (name == "href" || name == "src") && unsafeURL(val, n.DataAtom == atom.Img):
					problems = append(problems, fmt.Sprintf("The narrative may not link to %q (txt-1)", truncate(a.Val, 40)))
				}
			}
		case html.TextNode:
			if strings.TrimSpace(n.Data) != "" {
				content = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	if len(nodes) != 1 || nodes[0].DataAtom != atom.Div {
		problems = append(problems, "The narrative must be one <div> element")
	}
	if !content {
		problems = append(problems, "The narrative must have some text or image (txt-2)")
	}
	return problems
}

// unsafeURL reports a link that would run script.
func unsafeURL(u string, image bool) bool {
	u = strings.Join(strings.Fields(u), "")
	switch {
	case strings.HasPrefix(u, "javascript:"), strings.HasPrefix(u, "vbscript:"):
		return true
	case strings.HasPrefix(u, "data:"):
		return !image || !strings.HasPrefix(u, "data:image/") || strings.HasPrefix(u, "data:image/svg")
	}
	return false
}
