package static

import (
	"fmt"
	"regexp"
	"strings"
)

// The style sheet is written for the same engines as the scripts. An engine drops, one by
// one, the declarations it does not understand and keeps the one before: so every
// feature newer than Chromium 53 that the layout or the legibility depends on comes with
// a fallback declared before it in the same rule, and an engine without it still shows
// the slide whole, legible and in contrast. The lint knows the features below (with the
// first Chromium that has each, from MDN's compatibility data); what it does not list is
// either older than Chromium 53 or a refinement whose absence costs nothing (text-wrap,
// hyphens, prefers-reduced-motion).
//
// Two traps it knows of. A declaration that holds var() is not checked when the sheet is
// parsed, only when the value is computed, and then it fails as a whole and leaves the
// property unset: `background: rgba(…); background: color-mix(in srgb, var(--bg) 80%,
// transparent)` is no fallback, it is transparent on an old engine. Such a value needs
// @supports around it. And a selector list is dropped whole when one of its selectors
// is not understood, so a newer pseudo-class stands in a rule of its own.

// cssRule is one rule of a style sheet, with its declarations in order.
type cssRule struct {
	selector string
	line     int
	supports string // the conditions of the @supports blocks around it, "" for none
	decls    []cssDecl
}

type cssDecl struct {
	prop, value string
	line        int
}

// cssFeature is a part of a value that older engines do not parse.
type cssFeature struct {
	what  string
	re    *regexp.Regexp
	since int
}

var valueFeatures = []cssFeature{
	{"color-mix()", regexp.MustCompile(`(^|[^\w-])color-mix\(`), 111},
	{"lab()/lch()/oklab()/oklch()/color()", regexp.MustCompile(`(^|[^\w-])(ok)?(lab|lch)\(|(^|[^\w-])color\(`), 111},
	{"hwb()", regexp.MustCompile(`(^|[^\w-])hwb\(`), 101},
	{"min()/max()/clamp()", regexp.MustCompile(`(^|[^\w-])(min|max|clamp)\(`), 79},
	{"env()", regexp.MustCompile(`(^|[^\w-])env\(`), 69},
	{"rgb()/hsl() without commas", regexp.MustCompile(`(^|[^\w-])(rgba?|hsla?)\([^,()]*(\([^()]*\)[^,()]*)*\)`), 65},
	{"viewport units dvh/svh/lvh/dvw/svw/lvw/vi/vb", regexp.MustCompile(`\d(dvh|svh|lvh|dvw|svw|lvw|dvmin|dvmax|vi|vb)\b`), 108},
	{"container units", regexp.MustCompile(`\d(cqw|cqh|cqi|cqb|cqmin|cqmax)\b`), 105},
	{"lh/rlh units", regexp.MustCompile(`\d(r?lh)\b`), 109},
}

// propertyFeature is a property older engines do not know; the fallback is the
// properties one of which (or, with all, every one of which) is declared before it.
type propertyFeature struct {
	prop     string
	since    int
	fallback []string
	all      bool
}

var propertyFeatures = []propertyFeature{
	{"inset", 87, []string{"top", "right", "bottom", "left"}, true},
	{"inset-block", 87, []string{"top", "bottom"}, true},
	{"inset-inline", 87, []string{"left", "right"}, true},
	{"inset-block-start", 87, []string{"top"}, true},
	{"inset-block-end", 87, []string{"bottom"}, true},
	{"inset-inline-start", 87, []string{"left"}, true},
	{"inset-inline-end", 87, []string{"right"}, true},
	// not height: a box with a height has no use for its aspect ratio
	{"aspect-ratio", 88, []string{"min-height", "padding-top", "padding-bottom"}, false},
	{"margin-block", 87, []string{"margin-top", "margin-bottom"}, true},
	{"margin-inline", 87, []string{"margin-left", "margin-right"}, true},
	{"padding-block", 87, []string{"padding-top", "padding-bottom"}, true},
	{"padding-inline", 87, []string{"padding-left", "padding-right"}, true},
	{"margin-block-start", 69, []string{"margin-top"}, true},
	{"margin-block-end", 69, []string{"margin-bottom"}, true},
	{"margin-inline-start", 69, []string{"margin-left"}, true},
	{"margin-inline-end", 69, []string{"margin-right"}, true},
	{"padding-block-start", 69, []string{"padding-top"}, true},
	{"padding-block-end", 69, []string{"padding-bottom"}, true},
	{"padding-inline-start", 69, []string{"padding-left"}, true},
	{"padding-inline-end", 69, []string{"padding-right"}, true},
	{"translate", 104, []string{"transform"}, true},
	{"rotate", 104, []string{"transform"}, true},
	{"scale", 104, []string{"transform"}, true},
	{"place-items", 59, []string{"align-items"}, true},
	{"place-content", 59, []string{"align-content"}, true},
	{"place-self", 59, []string{"align-self"}, true},
}

// displayFeatures are values of display that older engines drop, with the first Chromium
// that has each; an earlier display declaration is the fallback.
var displayFeatures = map[string]int{"grid": 57, "inline-grid": 57, "contents": 65, "flow-root": 58}

// gapProps are the gaps and the grid-only names older engines know them by. Chromium 57
// has grid-gap for grids only; gap comes at 66 for grids and 84 for flexbox, and a flex
// gap cannot be detected with @supports, so gaps belong to grids, and flex items get
// margins.
var gapProps = map[string]string{"gap": "grid-gap", "row-gap": "grid-row-gap", "column-gap": "grid-column-gap"}

// newerSelectors are pseudo-classes older engines do not parse. A rule may use the
// allowed ones as its only selector (a refinement, dropped whole where unknown); the
// others nowhere, since the layout would depend on them.
var newerSelectors = []struct {
	re      *regexp.Regexp
	what    string
	since   int
	alone   bool // allowed as the only selector of its rule
	instead string
}{
	{regexp.MustCompile(`:has\(`), ":has()", 105, false, "set a class from the server or the script"},
	{regexp.MustCompile(`:(is|where)\(`), ":is()/:where()", 88, false, "write the selectors out"},
	{regexp.MustCompile(`:not\([^)]*,`), ":not() with a list", 88, false, "chain :not()s"},
	{regexp.MustCompile(`:focus-visible`), ":focus-visible", 86, true, ""},
	{regexp.MustCompile(`:focus-within`), ":focus-within", 60, true, ""},
	{regexp.MustCompile(`::marker`), "::marker", 86, true, ""},
}

// lintStyles returns one problem per declaration or rule of css that an engine older
// than its feature would lose without a fallback.
func lintStyles(name, css string) []string {
	rules, problems := parseCSS(name, css)
	for _, r := range rules {
		problems = append(problems, lintRule(name, r)...)
	}
	return problems
}

func lintRule(name string, r cssRule) []string {
	var problems []string
	at := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: ", name, line)+fmt.Sprintf(format, args...))
	}
	for _, s := range newerSelectors {
		if !s.re.MatchString(r.selector) {
			continue
		}
		switch {
		case !s.alone:
			at(r.line, "%s is Chromium %d: no layout may depend on it (%s)", s.what, s.since, s.instead)
		case strings.Contains(r.selector, ","):
			at(r.line, "%s is Chromium %d: give it a rule of its own, or an older engine drops the whole list %q", s.what, s.since, r.selector)
		}
	}
	display := ""
	for _, d := range r.decls {
		if d.prop == "display" {
			display = d.value
		}
	}
	for i, d := range r.decls {
		before := r.decls[:i]
		for _, f := range valueFeatures {
			if !f.re.MatchString(d.value) || f.re.MatchString(r.supports) {
				continue
			}
			switch {
			case strings.HasPrefix(d.prop, "--"):
				at(d.line, "%s is Chromium %d: a custom property holding it leaves every var(%s) unset on older engines; put it in @supports, or use rgba()", f.what, f.since, d.prop)
			case strings.Contains(d.value, "var("):
				at(d.line, "%s is Chromium %d, and with var() in it an earlier fallback does not hold (the declaration fails when computed, not when parsed): put it in @supports", f.what, f.since)
			case !declaredPlain(before, d.prop):
				at(d.line, "%s is Chromium %d: declare %s without it first, as the fallback", f.what, f.since, d.prop)
			}
		}
		for _, f := range propertyFeatures {
			if d.prop != f.prop {
				continue
			}
			if f.all && !declaredAll(before, f.fallback) || !f.all && !declaredAny(before, f.fallback) {
				join := " and "
				if !f.all {
					join = " or "
				}
				at(d.line, "%s is Chromium %d: declare %s before it, as the fallback", f.prop, f.since, strings.Join(f.fallback, join))
			}
		}
		if d.prop == "display" {
			if since, ok := displayFeatures[d.value]; ok && !declaredAny(before, []string{"display"}) {
				at(d.line, "display: %s is Chromium %d: declare the display older engines get before it", d.value, since)
			}
		}
		if old, ok := gapProps[d.prop]; ok || isGridGap(d.prop) {
			if display != "grid" && display != "inline-grid" {
				at(d.line, "%s in a rule that is not display: grid: flex gaps are Chromium 84; give flex items margins", d.prop)
			} else if ok && !declaredAny(before, []string{old}) {
				at(d.line, "%s is Chromium 66 for grids: declare %s before it, as the fallback", d.prop, old)
			}
		}
	}
	return problems
}

func isGridGap(prop string) bool {
	return prop == "grid-gap" || prop == "grid-row-gap" || prop == "grid-column-gap"
}

// declaredPlain says whether decls declare prop with a value no older engine drops.
func declaredPlain(decls []cssDecl, prop string) bool {
	for _, d := range decls {
		if d.prop != prop {
			continue
		}
		plain := true
		for _, f := range valueFeatures {
			if f.re.MatchString(d.value) {
				plain = false
			}
		}
		if plain {
			return true
		}
	}
	return false
}

func declaredAny(decls []cssDecl, props []string) bool {
	for _, d := range decls {
		for _, p := range props {
			if d.prop == p {
				return true
			}
		}
	}
	return false
}

func declaredAll(decls []cssDecl, props []string) bool {
	for _, p := range props {
		if !declaredAny(decls, []string{p}) {
			return false
		}
	}
	return true
}

// parseCSS reads the rules of a style sheet, the rules inside @media and @supports
// included, and the problems of its at-rules: @layer and @container (Chromium 99 and
// 105) and nesting (112) hide whole blocks from older engines, and media range syntax
// (104) is false there.
func parseCSS(name, css string) ([]cssRule, []string) {
	p := &cssParser{name: name, src: stripCSSComments(css)}
	p.block(0, len(p.src), "")
	return p.rules, p.problems
}

type cssParser struct {
	name     string
	src      string
	rules    []cssRule
	problems []string
}

func (p *cssParser) line(i int) int { return 1 + strings.Count(p.src[:i], "\n") }

func (p *cssParser) problem(i int, format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf("%s:%d: ", p.name, p.line(i))+fmt.Sprintf(format, args...))
}

var mediaRange = regexp.MustCompile(`\(\s*[\w-]+\s*[<>]=?|[<>]=?\s*[\w-]+\s*\)`)

// block reads the rules between from and to.
func (p *cssParser) block(from, to int, supports string) {
	i := from
	for i < to {
		for i < to && isSpace(p.src[i]) {
			i++
		}
		if i >= to {
			return
		}
		open := p.find(i, to, "{;")
		if open < 0 {
			return
		}
		prelude := strings.TrimSpace(p.src[i:open])
		if p.src[open] == ';' { // @import, @charset
			i = open + 1
			continue
		}
		end := p.matching(open, to)
		switch {
		case strings.HasPrefix(prelude, "@media"):
			if mediaRange.MatchString(prelude) {
				p.problem(i, "media range syntax is Chromium 104: write (min-width: …) and (max-width: …)")
			}
			p.block(open+1, end, supports)
		case strings.HasPrefix(prelude, "@supports"):
			p.block(open+1, end, supports+" "+prelude)
		case strings.HasPrefix(prelude, "@layer"), strings.HasPrefix(prelude, "@container"), strings.HasPrefix(prelude, "@scope"):
			p.problem(i, "%s hides its rules from engines before Chromium 99–118: leave it out", strings.Fields(prelude)[0])
		case strings.HasPrefix(prelude, "@keyframes"):
			p.block(open+1, end, supports)
		default:
			p.rule(prelude, i, open+1, end, supports)
		}
		i = end + 1
	}
}

// rule reads the declarations of one rule.
func (p *cssParser) rule(selector string, at, from, to int, supports string) {
	r := cssRule{selector: strings.Join(strings.Fields(selector), " "), line: p.line(at), supports: supports}
	i := from
	for i < to {
		end := p.find(i, to, ";{")
		if end < 0 {
			end = to
		}
		if end < to && p.src[end] == '{' {
			p.problem(end, "a nested rule is Chromium 112: write it out at the top level")
			end = p.matching(end, to)
		} else if decl := strings.TrimSpace(p.src[i:end]); decl != "" {
			prop, value, ok := strings.Cut(decl, ":")
			if ok {
				value = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "!important"))
				r.decls = append(r.decls, cssDecl{prop: strings.ToLower(strings.TrimSpace(prop)), value: value, line: p.line(i + len(p.src[i:end]) - len(strings.TrimLeft(p.src[i:end], " \t\r\n")))})
			}
		}
		i = end + 1
	}
	p.rules = append(p.rules, r)
}

// find is the index of the first of chars in [from, to) outside strings and parentheses,
// or -1.
func (p *cssParser) find(from, to int, chars string) int {
	depth := 0
	for i := from; i < to; i++ {
		switch c := p.src[i]; {
		case c == '"' || c == '\'':
			i = p.skipString(i, to)
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.IndexByte(chars, c) >= 0:
			return i
		}
	}
	return -1
}

// matching is the index of the brace that closes the one at open.
func (p *cssParser) matching(open, to int) int {
	depth := 0
	for i := open; i < to; i++ {
		switch p.src[i] {
		case '"', '\'':
			i = p.skipString(i, to)
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return to
}

func (p *cssParser) skipString(i, to int) int {
	q := p.src[i]
	for i++; i < to && p.src[i] != q; i++ {
		if p.src[i] == '\\' {
			i++
		}
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// stripCSSComments blanks the comments of a style sheet, keeping its lines.
func stripCSSComments(css string) string {
	b := []byte(css)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '"' || b[i] == '\'' {
			q := b[i]
			for i++; i < len(b) && b[i] != q; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			continue
		}
		if b[i] == '/' && b[i+1] == '*' {
			for ; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
			}
		}
	}
	return string(b)
}
