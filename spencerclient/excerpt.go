package spencerclient

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Excerpt is a one-line teaser of the item: its Summary when it has one, else the text of
// its body. Longer text is cut at a word boundary and ends in "…", so that the result,
// ellipsis included, is at most limit runes long and a layout can rely on that bound.
func (it Item) Excerpt(limit int) string {
	s := it.Summary
	if s == "" {
		s = PlainText(it.BodyHTML)
	}
	return truncateWords(strings.Join(strings.Fields(s), " "), limit)
}

// truncateWords cuts s, a single line, to at most limit runes.
func truncateWords(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	keep := limit - 1 // room for the ellipsis
	cut := keep       // a single word longer than the room is cut inside
	for i := keep; i > 0; i-- {
		if r[i] == ' ' { // r[keep] exists: len(r) > limit
			cut = i
			break
		}
	}
	head := strings.TrimRight(string(r[:cut]), " ,;:-–—")
	if head == "" {
		head = string(r[:keep])
	}
	return head + "…"
}

// PlainText is the text of an HTML fragment: tags removed, the content of scripts and
// styles dropped, entities decoded, white space collapsed. Block elements and <br> end a
// line, so paragraphs come out one per line; table cells are separated by a space.
func PlainText(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var b strings.Builder
	hidden := 0 // depth inside elements whose content is not text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapseLines(b.String())
		case html.TextToken:
			if hidden == 0 {
				// A newline in the source is white space like any other; lines come from elements.
				b.WriteString(strings.ReplaceAll(string(z.Text()), "\n", " "))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hidesContent(a) && tt != html.SelfClosingTagToken {
				if tt == html.StartTagToken {
					hidden++
				} else if hidden > 0 {
					hidden--
				}
			}
			switch {
			case breaksLine(a):
				b.WriteByte('\n')
			case a == atom.Td || a == atom.Th:
				b.WriteByte(' ')
			}
		}
	}
}

// hidesContent reports whether a reader never sees the content of element a as text.
func hidesContent(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Object,
		atom.Head, atom.Title, atom.Svg:
		return true
	}
	return false
}

// breaksLine reports whether element a starts or ends a line of text.
func breaksLine(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Dd,
		atom.Details, atom.Div, atom.Dl, atom.Dt, atom.Figcaption, atom.Figure, atom.Footer,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup,
		atom.Hr, atom.Li, atom.Main, atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section,
		atom.Summary, atom.Table, atom.Tr, atom.Ul:
		return true
	}
	return false
}

// collapseLines collapses white space within each line, as HTML does, and drops empty lines.
func collapseLines(s string) string {
	var lines []string
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
