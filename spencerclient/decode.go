package spencerclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// Skipped is a publication that had neither a title nor a body. Decode reports it so that
// the caller can count it and log, once, the keys it had (SPEC 3).
type Skipped struct {
	Index int      // position in upstream's array
	Keys  []string // its top-level keys as upstream spelled them, sorted; nil for a non-object or {}
}

// fallbackLocale is the locale tried after the requested one: Spencer objects that carry
// translations always carry it (SPEC 2).
const fallbackLocale = "en-US"

// Keys of SPEC 3, normalized by normKey and in the order they are tried.
var (
	wrapperKeys     = []string{"data", "items", "publications", "content", "results"}
	idKeys          = []string{"id", "uuid", "publicationid"}
	titleKeys       = []string{"title", "headline", "name"}
	bodyKeys        = []string{"body", "content", "html", "text"}
	summaryKeys     = []string{"summary", "intro", "excerpt", "lead", "description"}
	translationKeys = []string{"translations"}
	localeKeys      = []string{"locale", "language", "lang"}
	imageKeys       = []string{"image", "imageurl", "coverimage", "cover", "thumbnail", "media"}
	imageURLKeys    = []string{"url", "src", "href", "original"}
	publishedKeys   = []string{"publishedat", "publicationdate", "publishdate", "createdat"}
	linkKeys        = []string{"url", "link", "deeplink", "weburl"}
	authorKeys      = []string{"author", "createdby"}
	authorNameKeys  = []string{"name", "displayname"}
	pinnedKeys      = []string{"pinned", "ispinned", "sticky"}
	expiresKeys     = []string{"expiresat", "unpublishat", "enddate"}
)

const (
	// maxWrapperDepth bounds how deep Decode looks for the array of publications, so that
	// {"data": {"items": [...]}} is found but a hostile body cannot make it search forever.
	maxWrapperDepth = 3
	// maxImageDepth bounds the nesting of image objects and arrays ({"media": [{"src": …}]}).
	maxImageDepth = 4
	// maxEpochMillis is 9999-12-31T23:59:59.999Z: a larger "date" is not a date.
	maxEpochMillis = 253402300799999
)

// Decode parses a publications body (SPEC 3) into items in the given locale.
//
// It accepts every shape SPEC 3 lists and ignores what it does not know; only a body that
// is not JSON, or that holds no array of publications, is an error (a *DecodeError). An
// empty array is a valid answer. Items come pinned first, then newest first, then in
// upstream's order; publications with neither a title nor a body are left out and
// reported in skipped. Expired items are kept: whether to show them depends on the clock
// of whoever renders them (Item.Expired).
func Decode(body []byte, locale string) (items []Item, skipped []Skipped, err error) {
	pubs, err := publications(body)
	if err != nil {
		return nil, nil, &DecodeError{Err: err}
	}
	want, ok := canonicalLocale(locale)
	if !ok {
		want = strings.TrimSpace(locale)
	}
	items = make([]Item, 0, len(pubs))
	for i, raw := range pubs {
		obj, ok := parseObject(raw)
		if !ok {
			skipped = append(skipped, Skipped{Index: i})
			continue
		}
		it := decodeItem(raw, obj, want)
		if it.Title == "" && it.BodyHTML == "" {
			skipped = append(skipped, Skipped{Index: i, Keys: obj.keys()})
			continue
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, byDisplayOrder)
	return items, skipped, nil
}

// byDisplayOrder puts pinned items first and, within each group, the newest first; items
// without a date follow the dated ones. Ties keep upstream's order (the sort is stable).
func byDisplayOrder(a, b Item) int {
	if a.Pinned != b.Pinned {
		if a.Pinned {
			return -1
		}
		return 1
	}
	switch az, bz := a.Published.IsZero(), b.Published.IsZero(); {
	case az && bz:
		return 0
	case az:
		return 1
	case bz:
		return -1
	}
	return b.Published.Compare(a.Published)
}

// publications finds the array of publications in body: the body itself, or the array
// under one of the wrapper keys.
func publications(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff")) // a BOM is not JSON, but some gateways add one
	var top json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, err
	}
	return unwrap(top, 0)
}

func unwrap(v json.RawMessage, depth int) ([]json.RawMessage, error) {
	switch k := kindOf(v); k {
	case kindArray:
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, err
		}
		return list, nil
	case kindObject:
		if depth < maxWrapperDepth {
			obj, _ := parseObject(v)
			for _, key := range wrapperKeys {
				for _, m := range obj {
					if m.norm != key {
						continue
					}
					if list, err := unwrap(m.val, depth+1); err == nil {
						return list, nil
					}
				}
			}
		}
		return nil, errors.New("no array of publications under data, items, publications, content or results")
	default:
		return nil, fmt.Errorf("top level is %s, want an array of publications or an object holding one", k)
	}
}

// decodeItem builds the item of one publication; obj is raw parsed.
func decodeItem(raw json.RawMessage, obj object, want string) Item {
	it := Item{Raw: compactCopy(raw)}
	it.ID, _ = lookup(obj, idKeys, parseID)
	if it.ID == "" {
		// Screens and feed readers key on the ID, so it must stay the same from one poll
		// to the next while the publication does.
		sum := sha256.Sum256(it.Raw)
		it.ID = "h-" + hex.EncodeToString(sum[:8])
	}

	var ts textSet
	ts.addField(obj, partTitle, titleKeys)
	ts.addField(obj, partBody, bodyKeys)
	ts.addField(obj, partSummary, summaryKeys)
	ts.addTranslations(obj)
	var text Text
	text, it.Locale = ts.resolve(want)
	it.Title, it.BodyHTML, it.Summary = text.Title, text.BodyHTML, text.Summary
	it.Translations = ts.translations()

	it.ImageURL, _ = lookup(obj, imageKeys, func(v json.RawMessage) (string, bool) { return parseImage(v, 0) })
	it.Link, _ = lookup(obj, linkKeys, parseURL)
	it.Author, _ = lookup(obj, authorKeys, func(v json.RawMessage) (string, bool) { return parseAuthor(v, true) })
	it.Published, _ = lookup(obj, publishedKeys, parseTime)
	it.Expires, _ = lookup(obj, expiresKeys, parseTime)
	it.Pinned, _ = lookup(obj, pinnedKeys, parseBool)
	return it
}

// compactCopy is raw without insignificant white space and with invalid UTF-8 replaced,
// so that it can be embedded in the JSON Feed as it is and hashed independently of
// upstream's indentation.
func compactCopy(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw)
	}
	// Invalid UTF-8 can only sit inside strings of valid JSON, where U+FFFD keeps it valid.
	return bytes.ToValidUTF8(b.Bytes(), []byte("\uFFFD"))
}

// part is one translatable field of a publication.
type part int

const (
	partTitle part = iota
	partBody
	partSummary
	numParts
)

// partKeys are the keys of each part, as in the SPEC 3 table.
func partKeys(p part) []string {
	switch p {
	case partTitle:
		return titleKeys
	case partBody:
		return bodyKeys
	}
	return summaryKeys
}

// clean sanitizes upstream text for part p: the body is HTML, the others plain text.
func clean(p part, s string) string {
	if p == partBody {
		return sanitizeBody(s)
	}
	return plainLine(s)
}

// withoutControls normalizes line ends to \n and drops the other control characters,
// which no screen can show and some feed readers choke on.
func withoutControls(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
}

// textSet gathers the translatable text of a publication: plain strings, whose locale
// nobody told us, and texts by locale, from locale objects and translations.
type textSet struct {
	plain  [numParts]string
	order  []string // locales in the order first seen, for "the first one present"
	locale map[string]*[numParts]string
}

func (s *textSet) add(locale string, p part, v string) {
	if s.locale == nil {
		s.locale = make(map[string]*[numParts]string)
	}
	t, ok := s.locale[locale]
	if !ok {
		t = new([numParts]string)
		s.locale[locale] = t
		s.order = append(s.order, locale)
	}
	// The main fields are read before translations, so they win for their locale.
	if t[p] == "" {
		t[p] = v
	}
}

// get is part p in locale, or the plain text when locale is "".
func (s *textSet) get(locale string, p part) string {
	if locale == "" {
		return s.plain[p]
	}
	if t, ok := s.locale[locale]; ok {
		return t[p]
	}
	return ""
}

// addField reads part p from the first of keys that holds a usable string or locale object.
func (s *textSet) addField(obj object, p part, keys []string) {
	for _, key := range keys {
		for _, m := range obj {
			if m.norm == key && s.addValue(p, m.val) {
				return
			}
		}
	}
}

func (s *textSet) addValue(p part, v json.RawMessage) bool {
	switch kindOf(v) {
	case kindString:
		str, _ := stringOf(v)
		if c := clean(p, str); c != "" {
			s.plain[p] = c
			return true
		}
	case kindObject:
		obj, _ := parseObject(v)
		added := false
		for _, m := range obj {
			locale, ok := canonicalLocale(m.key)
			if !ok {
				continue
			}
			str, ok := stringOf(m.val)
			if !ok {
				continue
			}
			if c := clean(p, str); c != "" {
				s.add(locale, p, c)
				added = true
			}
		}
		return added
	}
	return false
}

// addTranslations reads translations given as an array of objects that name their locale,
// or as an object keyed by locale.
func (s *textSet) addTranslations(obj object) {
	for _, key := range translationKeys {
		for _, m := range obj {
			if m.norm != key {
				continue
			}
			switch kindOf(m.val) {
			case kindArray:
				var list []json.RawMessage
				if json.Unmarshal(m.val, &list) != nil {
					continue
				}
				for _, el := range list {
					tr, ok := parseObject(el)
					if !ok {
						continue
					}
					if locale, ok := lookup(tr, localeKeys, parseLocale); ok {
						s.addEntry(locale, tr)
					}
				}
			case kindObject:
				byLocale, _ := parseObject(m.val)
				for _, e := range byLocale {
					locale, ok := canonicalLocale(e.key)
					if !ok {
						continue
					}
					if tr, ok := parseObject(e.val); ok {
						s.addEntry(locale, tr)
					}
				}
			}
		}
	}
}

// addEntry reads the parts of one translation, whose fields are plain strings.
func (s *textSet) addEntry(locale string, tr object) {
	for p := range numParts {
		v, ok := lookup(tr, partKeys(p), func(v json.RawMessage) (string, bool) {
			str, _ := stringOf(v)
			c := clean(p, str)
			return c, c != ""
		})
		if ok {
			s.add(locale, p, v)
		}
	}
}

// resolve picks the text for want, in one language: the requested locale, else en-US
// and the plain strings (whose language nobody told us; they complete each other), else
// the first locale present. A translation is taken only when it is as complete as the
// default text (a title when that has one, a body or summary when that has one), and
// then as a whole: a part missing in the language chosen is not filled in from another
// (a summary missing in Dutch is derived from the Dutch body, not taken from English).
// locale is where the text came from; "" for plain strings.
func (s *textSet) resolve(want string) (t Text, locale string) {
	def, defLocale := s.textIn(fallbackLocale)
	if want != "" && want != fallbackLocale && s.locale[want] != nil {
		if t, locale = s.textIn(want); showable(t) && complete(t, def) {
			return t, locale
		}
	}
	if showable(def) {
		return def, defLocale
	}
	for _, cand := range s.order {
		if t, locale = s.textIn(cand); showable(t) && complete(t, def) {
			return t, locale
		}
	}
	// Nothing complete anywhere: some other language beats skipping the publication.
	return s.textIn(s.firstShowable())
}

// showable reports whether t has something to show: a title or a body.
func showable(t Text) bool { return t.Title != "" || t.BodyHTML != "" }

// complete reports whether a translation t has every part the default text def has, so
// that it can stand for the publication on its own.
func complete(t, def Text) bool {
	return (t.Title != "" || def.Title == "") && (t.BodyHTML != "" || t.Summary != "" || (def.BodyHTML == "" && def.Summary == ""))
}

// textIn is the text in chosen alone; the plain strings and en-US complete each other.
func (s *textSet) textIn(chosen string) (t Text, locale string) {
	sources := []string{chosen}
	if chosen == "" || chosen == fallbackLocale {
		sources = []string{chosen, "", fallbackLocale}
	}
	pick := func(p part) (string, string) {
		for _, src := range sources {
			if v := s.get(src, p); v != "" {
				return v, src
			}
		}
		return "", ""
	}
	var bodyLocale string
	t.Title, locale = pick(partTitle)
	t.BodyHTML, bodyLocale = pick(partBody)
	t.Summary, _ = pick(partSummary)
	if t.Title == "" {
		locale = bodyLocale
	}
	return t, locale
}

// firstShowable is the first locale seen that has a title or a body, or "".
func (s *textSet) firstShowable() string {
	for _, locale := range s.order {
		if t := s.locale[locale]; t[partTitle] != "" || t[partBody] != "" {
			return locale
		}
	}
	return ""
}

// translations is every locale seen, or nil.
func (s *textSet) translations() map[string]Text {
	if len(s.order) == 0 {
		return nil
	}
	m := make(map[string]Text, len(s.order))
	for _, locale := range s.order {
		t := s.locale[locale]
		m[locale] = Text{Title: t[partTitle], BodyHTML: t[partBody], Summary: t[partSummary]}
	}
	return m
}

// canonicalLocale spells a BCP 47-like tag the usual way (nl_be → nl-BE) and reports
// whether s looks like one at all. The check keeps a body object such as {"html": "…"}
// from being read as text in the locale "html".
func canonicalLocale(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if s == "" || len(s) > 35 {
		return "", false
	}
	tags := strings.Split(s, "-")
	for i, tag := range tags {
		switch {
		case i == 0:
			if len(tag) < 2 || len(tag) > 3 || !isASCII(tag, false) {
				return "", false
			}
			tags[i] = strings.ToLower(tag)
		case len(tag) < 1 || len(tag) > 8 || !isASCII(tag, true):
			return "", false
		case len(tag) == 2 && isASCII(tag, false): // region
			tags[i] = strings.ToUpper(tag)
		case len(tag) == 4 && isASCII(tag, false): // script
			tags[i] = strings.ToUpper(tag[:1]) + strings.ToLower(tag[1:])
		default:
			tags[i] = strings.ToLower(tag)
		}
	}
	return strings.Join(tags, "-"), true
}

// isASCII reports whether s holds only ASCII letters, and digits when digits is set.
func isASCII(s string, digits bool) bool {
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case digits && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

func parseLocale(v json.RawMessage) (string, bool) {
	s, _ := stringOf(v)
	return canonicalLocale(s)
}

func parseID(v json.RawMessage) (string, bool) {
	switch kindOf(v) {
	case kindString:
		s, _ := stringOf(v)
		s = strings.TrimSpace(s)
		return s, s != ""
	case kindNumber:
		// The text as sent: a float64 would turn 12345678901234567890 into another ID.
		return string(bytes.TrimSpace(v)), true
	}
	return "", false
}

// parseImage reads an image URL from a string, an object with url/src/href/original, or
// an array of those (the first usable one).
func parseImage(v json.RawMessage, depth int) (string, bool) {
	if depth > maxImageDepth {
		return "", false
	}
	switch kindOf(v) {
	case kindString:
		return parseURL(v)
	case kindObject:
		obj, _ := parseObject(v)
		return lookup(obj, imageURLKeys, func(v json.RawMessage) (string, bool) { return parseImage(v, depth+1) })
	case kindArray:
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			return "", false
		}
		for _, el := range list {
			if u, ok := parseImage(el, depth+1); ok {
				return u, true
			}
		}
	}
	return "", false
}

func parseURL(v json.RawMessage) (string, bool) {
	s, ok := stringOf(v)
	if !ok {
		return "", false
	}
	return absHTTPURL(s)
}

// absHTTPURL is s when it is an absolute http or https URL. Anything else (javascript:,
// data:, relative or protocol-relative URLs) has no safe or meaningful place on a screen
// or in a feed.
func absHTTPURL(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", false
	}
	return u.String(), true
}

// parseAuthor reads a name from a string or an object with name, displayName or
// firstName and lastName; in an array, from the first element that has one.
func parseAuthor(v json.RawMessage, arrayOK bool) (string, bool) {
	switch kindOf(v) {
	case kindString:
		s, _ := stringOf(v)
		s = plainLine(s)
		return s, s != ""
	case kindObject:
		obj, _ := parseObject(v)
		if name, ok := lookup(obj, authorNameKeys, func(v json.RawMessage) (string, bool) { return parseAuthor(v, false) }); ok {
			return name, true
		}
		first, _ := lookup(obj, []string{"firstname"}, func(v json.RawMessage) (string, bool) { return parseAuthor(v, false) })
		last, _ := lookup(obj, []string{"lastname"}, func(v json.RawMessage) (string, bool) { return parseAuthor(v, false) })
		name := strings.TrimSpace(first + " " + last)
		return name, name != ""
	case kindArray:
		if !arrayOK {
			return "", false
		}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			return "", false
		}
		for _, el := range list {
			if name, ok := parseAuthor(el, false); ok {
				return name, true
			}
		}
	}
	return "", false
}

// timeLayouts are RFC 3339 and the near misses that upstream APIs commonly send; a time
// without a zone is taken as UTC.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// parseTime reads RFC 3339, or epoch seconds or milliseconds as a number or a numeric
// string; a value above 1e11 is milliseconds (1e11 seconds is the year 5138).
func parseTime(v json.RawMessage) (time.Time, bool) {
	var text string
	switch kindOf(v) {
	case kindNumber:
		text = string(bytes.TrimSpace(v))
	case kindString:
		s, _ := stringOf(v)
		text = strings.TrimSpace(s)
		if !isDecimal(text) {
			for _, layout := range timeLayouts {
				if t, err := time.Parse(layout, text); err == nil && !t.IsZero() {
					return t, true
				}
			}
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > maxEpochMillis {
		return time.Time{}, false
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)).UTC(), true
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// isDecimal reports whether s is digits with an optional fraction, which ParseFloat would
// read; unlike ParseFloat it refuses "inf", "NaN" and hexadecimal.
func isDecimal(s string) bool {
	digits, dot := 0, false
	for _, c := range []byte(s) {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// parseBool reads a boolean, "true"/"false" (any case), or 0/1 as a number or a string.
func parseBool(v json.RawMessage) (bool, bool) {
	var s string
	switch kindOf(v) {
	case kindBool, kindNumber:
		s = string(bytes.TrimSpace(v))
	case kindString:
		s, _ = stringOf(v)
		s = strings.ToLower(strings.TrimSpace(s))
	}
	switch s {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// sanitizeBody turns upstream body text, HTML or plain, into safe HTML; "" when nothing
// visible remains.
func sanitizeBody(s string) string {
	s = withoutControls(s)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	var out string
	if isHTML(s) {
		out = withoutIDs(bodyPolicy().Sanitize(s))
	} else {
		out = paragraphs(s)
	}
	out = strings.TrimSpace(withoutControls(out))
	if PlainText(out) == "" && !strings.Contains(out, "<img") {
		return ""
	}
	return out
}

// bodyPolicy is the allow-list for body HTML: bluemonday's policy for user content, with
// links and images limited to absolute http(s) URLs (relative ones have no base on a
// screen or in a feed reader) and mailto links. The UGC policy already refuses scripts,
// iframes, style attributes and event handlers.
var bodyPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowRelativeURLs(false)
	hasHost := func(u *url.URL) bool { return u.Hostname() != "" }
	p.AllowURLSchemeWithCustomPolicy("http", hasHost)
	p.AllowURLSchemeWithCustomPolicy("https", hasHost)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	// bluemonday adds rel="noopener" only together with target="_blank", which is what
	// a link in the embed widget needs anyway: it must not navigate the iframe.
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
})

// textPolicy strips every tag; the space it leaves for a tag keeps "a<br>b" two words.
var textPolicy = sync.OnceValue(func() *bluemonday.Policy {
	return bluemonday.StrictPolicy().AddSpaceWhenStrippingTag(true)
})

// plainLine is s as one line of plain text: tags stripped, entities decoded, white space
// collapsed. It is text, not HTML: whoever renders it escapes it.
func plainLine(s string) string {
	// Controls are dropped after unescaping, as "&#1;" would otherwise bring one back.
	s = withoutControls(html.UnescapeString(textPolicy().Sanitize(s)))
	return strings.Join(strings.Fields(s), " ")
}

// isHTML reports whether s holds markup; "5 < 6" or "Q&A" alone are plain text.
func isHTML(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken, html.CommentToken, html.DoctypeToken:
			return true
		}
	}
}

// paragraphs renders plain text as HTML: a blank line separates paragraphs, a single
// newline is a line break. Entities are decoded first, so "Q&amp;A" shows as "Q&A"
// as it would in a title.
func paragraphs(s string) string {
	var b strings.Builder
	var lines []string
	flush := func() {
		if len(lines) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("<p>")
		b.WriteString(strings.Join(lines, "<br>"))
		b.WriteString("</p>")
		lines = lines[:0]
	}
	for line := range strings.SplitSeq(html.UnescapeString(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		lines = append(lines, html.EscapeString(line))
	}
	flush()
	return b.String()
}

// withoutIDs drops id and name attributes from sanitized HTML. Many bodies share one
// page, and an id from upstream could collide with the page's own ids or shadow a global
// of its script (DOM clobbering); the UGC policy allows them for in-page anchors, which
// a slide does not need.
func withoutIDs(s string) string {
	if !strings.Contains(s, "id=") && !strings.Contains(s, "name=") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		tok := z.Token()
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			tok.Attr = slices.DeleteFunc(tok.Attr, func(a html.Attribute) bool {
				return a.Key == "id" || a.Key == "name"
			})
		}
		b.WriteString(tok.String())
	}
}

// kind is the type of a JSON value, from its first byte.
type kind int

const (
	kindInvalid kind = iota
	kindNull
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"not JSON", "null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

func kindOf(v []byte) kind {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return kindInvalid
	}
	switch c := v[0]; {
	case c == 'n':
		return kindNull
	case c == 't' || c == 'f':
		return kindBool
	case c == '-' || '0' <= c && c <= '9':
		return kindNumber
	case c == '"':
		return kindString
	case c == '[':
		return kindArray
	case c == '{':
		return kindObject
	}
	return kindInvalid
}

func stringOf(v json.RawMessage) (string, bool) {
	if kindOf(v) != kindString {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// member is one key of a JSON object, with the key normalized for matching.
type member struct {
	key  string
	norm string
	val  json.RawMessage
}

// object is a JSON object with its members in document order, which a map would lose
// and which "the first locale present" depends on.
type object []member

// parseObject reads v when it is an object. v has been validated by the decoder that
// cut it out, so an error here only ends the object early.
func parseObject(v []byte) (object, bool) {
	if kindOf(v) != kindObject {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var obj object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, ok := tok.(string)
		if !ok {
			break
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			break
		}
		obj = append(obj, member{key: key, norm: normKey(key), val: val})
	}
	return obj, true
}

// keys are the object's keys, sorted.
func (o object) keys() []string {
	if len(o) == 0 {
		return nil
	}
	keys := make([]string, len(o))
	for i, m := range o {
		keys[i] = m.key
	}
	slices.Sort(keys)
	return keys
}

// normKey folds a key so that publishedAt, published_at and PublishedAt match.
func normKey(key string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, key)
}

// lookup tries keys in order, and members with the same key in document order, and
// returns the first value that parse accepts.
func lookup[T any](obj object, keys []string, parse func(json.RawMessage) (T, bool)) (T, bool) {
	for _, key := range keys {
		for _, m := range obj {
			if m.norm != key {
				continue
			}
			if v, ok := parse(m.val); ok {
				return v, true
			}
		}
	}
	var zero T
	return zero, false
}
