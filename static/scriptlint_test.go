package static

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// The scripts a TV runs (the screen's, the embed's and the service worker) are written
// for the oldest engine that must run them: Chromium 53, the browser of LG webOS 4, on
// which the screen must still rotate; everything newer runs them too. esbuild knows,
// for every syntax feature, the first Chromium that parses it. It does not refuse what
// a target lacks: it rewrites it (`a?.b` becomes `a == null ? void 0 : a.b`), so a
// script is checked by printing it twice, once for the newest engines and once for the
// target, and any difference is syntax the target does not have.

// scriptEngine is the engine the TV scripts are checked against.
var scriptEngine = api.Engine{Name: api.EngineChrome, Version: "53"}

// lintScriptSyntax returns one problem per construct of src that engine cannot parse.
func lintScriptSyntax(name, src string, engine api.Engine) []string {
	modern := api.Transform(src, api.TransformOptions{Loader: api.LoaderJS, Target: api.ESNext, Sourcefile: name, Sourcemap: api.SourceMapExternal})
	if len(modern.Errors) > 0 {
		return messages(name, modern.Errors)
	}
	// esbuild rewrites template literals for engines before Chromium 62 for the sake of
	// tagged templates' caching, a detail of semantics: Chromium 41 parses them.
	old := api.Transform(src, api.TransformOptions{Loader: api.LoaderJS, Engines: []api.Engine{engine}, Sourcefile: name,
		Supported: map[string]bool{"template-literal": true}})
	if len(old.Errors) > 0 {
		return messages(name, old.Errors)
	}
	var problems []string
	a, b := strings.Split(string(modern.Code), "\n"), strings.Split(string(old.Code), "\n")
	if i := firstChanged(a, b); i >= 0 {
		// One is enough to fail; fixing it shows the next.
		problems = append(problems, fmt.Sprintf("%s:%d: syntax that %s does not parse: %q (esbuild would rewrite it for that engine)",
			name, sourceLine(string(modern.Map), i), engineName(engine), strings.TrimSpace(a[i])))
	}
	// Trailing commas in argument and parameter lists (Chromium 58) are dropped by
	// esbuild's printer whatever the target, so they are looked for in the source.
	code := blankComments(src)
	for _, m := range trailingComma.FindAllStringIndex(code, -1) {
		problems = append(problems, fmt.Sprintf("%s:%d: a trailing comma before ')' is a SyntaxError before Chromium 58", name, 1+strings.Count(code[:m[0]], "\n")))
	}
	return problems
}

// firstChanged is the index of the first line of a that the longest common subsequence
// of a and b leaves out: where the lowered output b stops being a copy of a, helpers
// and temporaries that esbuild adds on other lines aside. -1 when a and b are equal.
func firstChanged(a, b []string) int {
	if slices.Equal(a, b) {
		return -1
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			return i // a[i] is not in b: rewritten
		default:
			j++ // b[j] was added
		}
	}
	if i < len(a) {
		return i
	}
	return len(a) - 1
}

var trailingComma = regexp.MustCompile(`,\s*\)`)

func engineName(e api.Engine) string { return "Chromium " + e.Version }

func messages(name string, msgs []api.Message) []string {
	var out []string
	for _, m := range msgs {
		line := 0
		if m.Location != nil {
			line = m.Location.Line
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", name, line, m.Text))
	}
	return out
}

// sourceLine is the line (1-based) of the source that line genLine (0-based) of the
// output came from, read from a version 3 source map; 0 when it cannot tell.
func sourceLine(sourceMap string, genLine int) int {
	i := strings.Index(sourceMap, `"mappings": "`)
	if i < 0 {
		return 0
	}
	mappings := sourceMap[i+len(`"mappings": "`):]
	mappings = mappings[:strings.IndexByte(mappings, '"')]
	// Fields are relative to the previous segment across the whole map (the source
	// line), so every segment up to genLine is decoded.
	srcLine := 0
	for l, group := range strings.Split(mappings, ";") {
		for seg := range strings.SplitSeq(group, ",") {
			if seg == "" {
				continue
			}
			f := decodeVLQ(seg)
			if len(f) >= 3 {
				srcLine += f[2]
			}
			if l >= genLine {
				return srcLine + 1
			}
		}
	}
	return 0
}

// decodeVLQ decodes one segment of base64 VLQ numbers.
func decodeVLQ(s string) []int {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []int
	value, shift := 0, 0
	for _, c := range s {
		d := strings.IndexRune(alphabet, c)
		if d < 0 {
			return out
		}
		value |= (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		n := value >> 1
		if value&1 != 0 {
			n = -n
		}
		out = append(out, n)
		value, shift = 0, 0
	}
	return out
}

// newerAPI is a part of the platform that Chromium 53 lacks: a script may use it only
// behind a test that it exists, on the same line (`if (x.decode) …`, `x.decode ? … : …`,
// `"ResizeObserver" in window && …`, `typeof x.y === "function"`), and do without it
// otherwise. since is the first Chromium that has it.
type newerAPI struct {
	name  string
	kind  apiKind
	since int
}

type apiKind int

const (
	global apiKind = iota // a constructor, a function or a static method: ResizeObserver, Object.entries
	method                // a method, called: x.padStart(
	option                // a key of an options object: { dateStyle: "medium" }
)

// newerAPIs are the ones a script for screens is likely to reach for. Those after 64
// break the screen where its full behaviour is promised (Chromium 64 and later); those
// from 54 to 64 stop the rotation of the oldest TVs. Versions from MDN's compatibility
// data.
var newerAPIs = []newerAPI{
	{"Object.entries", global, 54}, {"Object.values", global, 54},
	{"padStart", method, 57}, {"padEnd", method, 57},
	{"formatToParts", method, 57},
	{"finally", method, 63}, // Promise.prototype.finally
	{"decode", method, 64},  // HTMLImageElement.decode
	{"ResizeObserver", global, 64},
	{"trimStart", method, 66}, {"trimEnd", method, 66},
	{"AbortController", global, 66},
	{"toggleAttribute", method, 69},
	{"flat", method, 69}, {"flatMap", method, 69},
	{"queueMicrotask", global, 71},
	{"globalThis", global, 71},
	{"RelativeTimeFormat", method, 71},
	{"matchAll", method, 73},
	{"Object.fromEntries", global, 73},
	{"hourCycle", option, 73},
	{"Promise.allSettled", global, 76},
	{"dateStyle", option, 76}, {"timeStyle", option, 76},
	{"getAnimations", method, 84},
	{"WeakRef", global, 84},
	{"replaceAll", method, 85},
	{"Promise.any", global, 85},
	{"replaceChildren", method, 86},
	{"randomUUID", method, 92},
	{"at", method, 92}, // Array.prototype.at, String.prototype.at
	{"Object.hasOwn", global, 93},
	{"findLast", method, 97}, {"findLastIndex", method, 97},
	{"structuredClone", global, 98},
	{"AbortSignal.timeout", global, 103},
	{"toSorted", method, 110}, {"toReversed", method, 110}, {"toSpliced", method, 110},
	{"Object.groupBy", global, 117},
}

// lintScriptAPIs returns one problem per line of src that uses a newer API without a
// test for it on the same line.
func lintScriptAPIs(name, src string) []string {
	var problems []string
	lines := strings.Split(blankComments(src), "\n")
	for _, a := range newerAPIs {
		use, guard := a.patterns()
		for i, line := range lines {
			if use.MatchString(line) && !guard.MatchString(line) {
				problems = append(problems, fmt.Sprintf("%s:%d: %s is Chromium %d: test that it exists on the same line, with a fallback", name, i+1, a.name, a.since))
			}
		}
	}
	return problems
}

// patterns are the regular expressions of a use of the API, and of a test for it.
func (a newerAPI) patterns() (use, guard *regexp.Regexp) {
	q := regexp.QuoteMeta(a.name)
	last := q
	if i := strings.LastIndexByte(a.name, '.'); i >= 0 {
		last = regexp.QuoteMeta(a.name[i+1:])
	}
	switch a.kind {
	case global:
		use = regexp.MustCompile(`(^|[^\w.$])` + q + `\b`)
	case method:
		use = regexp.MustCompile(`\.` + q + `\s*\(`)
	case option:
		use = regexp.MustCompile(`\b` + q + `\s*:`)
	}
	guard = regexp.MustCompile(`typeof\s+[\w.$]*\b` + last + `\b|["']` + last + `["']\s+in\b|\.` + last + `\s*(\?[^.?]|&&|\|\||\))`)
	return use, guard
}

// blankComments replaces the comments of a script by spaces, keeping its lines, so that a
// comment neither hides nor fakes code. It knows strings, template literals and regular
// expression literals well enough for our own scripts.
func blankComments(src string) string {
	b := []byte(src)
	prev := byte(0) // the last significant character outside a comment
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			for ; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			for i++; i < len(b) && b[i] != c; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			prev = c
		case c == '/' && strings.IndexByte("(,=:[!&|?{};+-*%<>~^", prev) >= 0 || c == '/' && prev == 0:
			// A regular expression literal: up to its closing slash, classes included.
			inClass := false
			for i++; i < len(b) && (b[i] != '/' || inClass) && b[i] != '\n'; i++ {
				switch b[i] {
				case '\\':
					i++
				case '[':
					inClass = true
				case ']':
					inClass = false
				}
			}
			prev = '/'
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			prev = c
		}
	}
	return string(b)
}
