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
		"Mon 2026-11-30 06:59": false, // Sunday's night is not listed: Monday wakes at midnight
		"Tue 2026-12-01 06:59": true,  // the end of Monday's night
		"Tue 2026-12-01 07:00": false, // awake
		"Mon 2026-11-30 18:59": false,
		"Mon 2026-11-30 19:00": true,
		"Tue 2026-12-01 00:30": true,
		"Wed 2026-12-02 12:30": true, // the lunch window
		"Wed 2026-12-02 13:00": false,
		"Fri 2026-12-04 23:00": true,
		"Sat 2026-12-05 06:59": true, // Friday's night, and Saturday besides
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

// TestQuietNightBelongsToItsEvening: "Fri 19:00-07:00" is one night, from Friday 19:00 to
// Saturday 07:00, not Friday's small hours and Friday's evening.
func TestQuietNightBelongsToItsEvening(t *testing.T) {
	q, problems := parseQuietHours([]string{"Fri 19:00-07:00"}, time.UTC)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC), false},   // Friday 03:00: Thursday's night is not listed
		{time.Date(2026, 12, 4, 18, 59, 0, 0, time.UTC), false}, // Friday, before the evening
		{time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC), true},   // Friday 19:00
		{time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), true}, // past midnight, into Saturday
		{time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC), true}, // Saturday 03:00
		{time.Date(2026, 12, 5, 6, 59, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC), false}, // Saturday 07:00: awake
		{time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC), false},
	} {
		if got := q.quiet(tc.at); got != tc.want {
			t.Errorf("%s: quiet %v, want %v", tc.at.Format("Mon 15:04"), got, tc.want)
		}
	}
	// With Thursday's night listed too, Friday 03:00 is its end.
	q, _ = parseQuietHours([]string{"Thu-Fri 19:00-07:00"}, time.UTC)
	if !q.quiet(time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("Friday 03:00 with Thursday's night listed: not quiet")
	}
	// A week's nights across Sunday into Monday: the days wrap.
	q, _ = parseQuietHours([]string{"Sun 22:00-06:00"}, time.UTC)
	if !q.quiet(time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)) || q.quiet(time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("Sunday's night does not end on Monday morning")
	}
}
