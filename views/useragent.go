package views

import (
	"regexp"
	"strings"
)

// uaBrowsers are the browsers a screen or an operator is likely to run, most specific
// first: Edge and Opera say "Chrome" too, Chrome says "Safari".
var uaBrowsers = []struct{ name, token string }{
	{"Samsung Internet", "SamsungBrowser/"},
	{"Edge", "Edg/"},
	{"Opera", "OPR/"},
	{"Headless Chrome", "HeadlessChrome/"},
	{"Chromium", "Chromium/"},
	{"Chrome", "Chrome/"},
	{"Firefox", "Firefox/"},
	{"Safari", "Version/"}, // Safari gives its version here, and its build after "Safari/"
}

// uaSystems are the systems, TV platforms first: a smart TV also says "Linux".
var uaSystems = []struct{ name, token string }{
	{"Tizen TV", "Tizen"},
	{"webOS TV", "Web0S"},
	{"webOS TV", "webOS"},
	{"Chromecast", "CrKey"},
	{"Android TV", "Android TV"},
	{"Android", "Android"},
	{"iPadOS", "iPad"},
	{"iOS", "iPhone"},
	{"ChromeOS", "CrOS"},
	{"Windows", "Windows"},
	{"macOS", "Mac OS X"},
	{"Raspberry Pi", "Raspbian"},
	{"Linux ARM", "Linux aarch64"},
	{"Linux ARM", "Linux armv"},
	{"Linux", "Linux"},
}

var uaVersion = regexp.MustCompile(`^[0-9]+`)

// browserLabel is a user agent as an operator reads it, e.g. "Chrome 131 · Linux": the
// browser, its major version and the system. A client that is no browser keeps its first
// product token.
func browserLabel(ua string) string {
	if ua == "" {
		return "–"
	}
	if family := BrowserFamily(ua); family != "" {
		return family
	}
	product, _, _ := strings.Cut(ua, " ")
	if len(product) > 32 {
		product = product[:32] + "…"
	}
	return product
}

// BrowserFamily names the browser and system of a user agent from a fixed vocabulary and
// a version number ("Chrome 131 · Linux"), "" when it knows neither: nothing else of what
// the client sent is repeated, so it is safe in a chat message.
func BrowserFamily(ua string) string {
	var browser string
	for _, b := range uaBrowsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			browser = b.name
			if v := uaVersion.FindString(ua[i+len(b.token):]); v != "" && len(v) <= 4 {
				browser += " " + v
			}
			break
		}
	}
	var system string
	for _, s := range uaSystems {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " · " + system
	case browser != "":
		return browser
	}
	return system
}

// shortID is the start of a long id, enough to tell ids apart by eye; the whole id goes
// in a title attribute next to it.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}
