package views

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// initial is the first letter of a title, shown in the embed's thumbnail of an item
// without an image.
func initial(title string) string {
	for _, r := range title {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return strings.ToUpper(string(r))
		}
	}
	r, _ := utf8.DecodeRuneInString(title)
	if r == utf8.RuneError {
		return ""
	}
	return string(r)
}

func itoa(n int) string { return strconv.Itoa(n) }

// frozenPageRefresh is how often, in seconds, a screen or an embed whose script does not
// run reloads itself.
const frozenPageRefresh = 300

// hasBanner says whether a screen's layer of announcements (Announcements, our own
// markup) holds the banner of informative ones, which takes its room from the slides.
func hasBanner(layerHTML string) bool { return strings.Contains(layerHTML, `class="info-banner"`) }

func boolAttr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// displayName is the name of a deck for people.
func displayName(d Deck) string {
	if d.Name != "" {
		return d.Name
	}
	return d.Locale.Texts().News
}

func qrViewBox(q *QR) string { return "0 0 " + strconv.Itoa(q.Size) + " " + strconv.Itoa(q.Size) }

// keyQuery is the placeholder key parameter shown in links and snippets when access keys
// are on; sep is "?" or "&".
func keyQuery(p IndexPage, sep string) string {
	if !p.KeyHint {
		return ""
	}
	return sep + "key=YOUR_KEY"
}

// embedSnippet is the copy-paste iframe and the one-line listener that sizes it.
func embedSnippet(p IndexPage, id string) string {
	return iframeSnippet(p.BaseURL, id, keyQuery(p, "?"))
}

// iframeSnippet is the iframe of a userlist's embed below base, with key (e.g.
// "?key=YOUR_KEY") appended to its address, and the listener that sizes it. The
// listener believes only our origin, and sizes only the frame that sent the message, so
// several widgets on one page (or other userlists, or other options) size themselves.
func iframeSnippet(base, id, key string) string {
	src := base + "/embed/" + id + key
	return `<iframe src="` + src + `" title="News" style="width:100%;border:0;height:420px" loading="lazy"></iframe>
<script>addEventListener("message",e=>{if(e.origin==="` + originOf(base) + `"&&e.data&&e.data.type==="signage-embed-height")for(const f of document.getElementsByTagName("iframe"))if(f.contentWindow===e.source)f.style.height=e.data.height+"px"})</script>`
}

// originOf is the scheme://host[:port] of an absolute URL, what a postMessage carries.
func originOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// photoLedMaxSummary is the longest summary, in characters, that still reads as a caption
// on a scrim over a full-bleed photo; a longer one needs a column of its own.
const photoLedMaxSummary = 110

// photoLed says whether a slide is carried by its image: it has one, and little text.
func photoLed(s Slide) bool {
	return s.ImageURL != "" && utf8.RuneCountInString(s.Summary) <= photoLedMaxSummary
}
