package server

import (
	"strings"
	"testing"
	"time"
)

func TestQuietHours(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	q, problems := parseQuietHours([]string{"Mon-Fri 19:00-07:00", "Sat-Sun", "wed 12:00-13:00"}, brussels)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("Mon 2006-01-02 15:04", s, brussels)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for when, want := range map[string]bool{
		"Mon 2026-11-30 06:59": true,  // the weekday's early morning
		"Mon 2026-11-30 07:00": false, // awake
		"Mon 2026-11-30 18:59": false,
		"Mon 2026-11-30 19:00": true,
		"Tue 2026-12-01 00:30": true,
		"Wed 2026-12-02 12:30": true, // the lunch window
		"Wed 2026-12-02 13:00": false,
		"Fri 2026-12-04 23:00": true,
		"Sat 2026-12-05 12:00": true, // the whole weekend
		"Sun 2026-12-06 23:59": true,
	} {
		if got := q.quiet(at(when)); got != want {
			t.Errorf("%s: quiet %v, want %v", when, got, want)
		}
	}
	// The zone matters: 18:30 UTC is 19:30 in Brussels in winter.
	if !q.quiet(time.Date(2026, 11, 30, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("the time zone was not applied")
	}
	if (quietHours{}).quiet(time.Now()) {
		t.Errorf("no quiet hours, yet quiet")
	}
	_, problems = parseQuietHours([]string{"Mon-Fri 19:00", "Moon 10:00-11:00", "25:00-26:00", "Mon Tue"}, time.UTC)
	if len(problems) != 4 || !strings.Contains(problems[1], "screens.quiet_hours[1]") {
		t.Errorf("problems: %q", problems)
	}
}
