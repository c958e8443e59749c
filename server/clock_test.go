package server_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
)

// TestScreenGetsTheServersTime: the screen page carries the server's time and zone, and
// so does every answer to a screen's poll, from which the page keeps its clock: the
// offset of screens.time_zone now, when it ends (daylight saving time) and the offset
// after it.
func TestScreenGetsTheServersTime(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Screens.TimeZone = "Europe/Brussels" })
	e.stop()
	e.opts.Now = func() time.Time { return now }
	e.start()
	// Winter time (+01:00) until 01:00 UTC on the last Sunday of March, summer time after.
	until := time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC)
	if got := until.In(brussels).Format("15:04 -07:00"); got != "03:00 +02:00" {
		t.Fatalf("the zone database: %s", got)
	}

	_, html := e.get("/screens/" + lobby)
	body := parseHTML(t, html).Find("body")
	if got := body.AttrOr("data-now", ""); got != strconv.FormatInt(now.UnixMilli(), 10) {
		t.Errorf("data-now = %q, want %d", got, now.UnixMilli())
	}
	var zone struct {
		Offset, Next int
		Until        int64
	}
	if err := json.Unmarshal([]byte(body.AttrOr("data-zone", "")), &zone); err != nil {
		t.Fatalf("data-zone %q: %v", body.AttrOr("data-zone", ""), err)
	}
	if zone.Offset != 60 || zone.Until != until.UnixMilli() || zone.Next != 120 {
		t.Errorf("data-zone = %+v, want offset 60 until %d, then 120", zone, until.UnixMilli())
	}

	for _, path := range []string{"/screens/" + lobby + "/deck", "/embed/" + lobby + "/fragment"} {
		_, js := e.get(path)
		var f struct {
			Now  int64
			Zone struct {
				Offset, Next int
				Until        int64
			}
		}
		if err := json.Unmarshal([]byte(js), &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if f.Now != now.UnixMilli() || f.Zone.Offset != 60 || f.Zone.Until != until.UnixMilli() || f.Zone.Next != 120 {
			t.Errorf("%s: now %d, zone %+v", path, f.Now, f.Zone)
		}
	}
}

// TestSlidesAreDatedInTheServersZone: a publication's day is the one of screens.time_zone,
// on the screen and in the embed: 23:30 UTC on the 20th is the 21st in Brussels.
func TestSlidesAreDatedInTheServersZone(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Screens.TimeZone = "Europe/Brussels" })
	e.fake.SetPublications(lobby, []map[string]any{{"id": "late", "title": "Late news", "publishedAt": "2026-11-20T23:30:00Z"}})
	var html string
	waitFor(t, 10*time.Second, "the late news", func() bool {
		_, html = e.get("/screens/" + lobby)
		return strings.Contains(html, "Late news")
	})
	if got := parseHTML(t, html).Find("[data-testid=slide] time").Text(); got != "November 21, 2026" {
		t.Errorf("screen: %q, want November 21, 2026", got)
	}
	_, html = e.get("/embed/" + lobby)
	if got := parseHTML(t, html).Find("[data-testid=headline] time").Text(); got != "Nov 21, 2026" {
		t.Errorf("embed: %q, want Nov 21, 2026", got)
	}
}
