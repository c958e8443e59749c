package server

import (
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/labstack/echo/v4"
)

var safeLang = regexp.MustCompile(`^([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2})?$`)

// FuzzPageOptions feeds arbitrary query strings to the screen and embed options: every
// value ends up in its allowed range, whatever was asked.
func FuzzPageOptions(f *testing.F) {
	for _, seed := range []string{
		"theme=light&interval=20&lang=nl-BE&qr=0&clock=1",
		"interval=-5&limit=999999999999999999999&lang=<script>",
		"theme=%00&interval=1e9&lang=en-US-x-private-extra",
		"key=" + string(make([]byte, 300)), "%zz&&&==", "interval=3&interval=4000",
	} {
		f.Add(seed)
	}
	s := &Server{cfg: DefaultConfig()}
	e := echo.New()
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest("GET", "/screens/x", nil)
		req.URL.RawQuery = raw
		o := s.pageOptions(e.NewContext(req, httptest.NewRecorder()))
		switch {
		case o.Theme != "dark" && o.Theme != "light":
			t.Fatalf("theme %q", o.Theme)
		case o.Interval < 3 || o.Interval > 3600:
			t.Fatalf("interval %d", o.Interval)
		case !safeLang.MatchString(o.Lang):
			t.Fatalf("lang %q", o.Lang)
		case o.Limit < 0 || o.Limit > 100:
			t.Fatalf("limit %d", o.Limit)
		case len(o.Key) > 256:
			t.Fatalf("key of %d bytes", len(o.Key))
		}
	})
}
