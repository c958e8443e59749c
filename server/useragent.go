package server

import "strings"

// browserLabel names a user agent for people in a few words ("Chromium on Linux", "Tizen
// TV"), from a fixed vocabulary: a User-Agent is whatever the client chose to send, so it
// is never repeated as such where it could be taken for something else (a chat message,
// a mention, a link).
func browserLabel(ua string) string {
	browser, os := "", ""
	for _, b := range [...]struct{ token, name string }{
		{"SamsungBrowser", "Samsung Internet"}, {"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
		{"Go-http-client", "Go client"}, {"python", "Python client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range [...]struct{ token, name string }{
		{"Tizen", "Tizen TV"}, {"Web0S", "webOS TV"}, {"webOS", "webOS TV"}, {"CrKey", "Chromecast"}, {"BRAVIA", "Bravia TV"},
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"CrOS", "ChromeOS"}, {"Windows", "Windows"},
		{"Macintosh", "macOS"}, {"Raspbian", "Raspberry Pi"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	case os != "":
		return os
	}
	return "unknown browser"
}
