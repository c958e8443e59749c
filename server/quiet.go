package server

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// quietHours is when screens rest: each window is a set of weekdays and a time of day,
// read from screens.quiet_hours ("Mon-Fri 19:00-07:00", "Sat-Sun", "12:00-13:00"), in
// screens.time_zone. A time range that ends before it starts belongs to the day it starts,
// as in every scheduler people know: "Fri 19:00-07:00" is quiet from Friday 19:00 to
// Saturday 07:00, and "Mon-Fri 19:00-07:00" is the five nights that begin on weekdays (so
// Monday until 07:00 is quiet only when Sunday's night is listed too).
type quietHours struct {
	windows []quietWindow
	loc     *time.Location
}

type quietWindow struct {
	days       [7]bool // by time.Weekday
	start, end int     // minutes after midnight; start == end: the whole day
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseQuietHours reads the windows; each problem names the entry.
func parseQuietHours(entries []string, loc *time.Location) (quietHours, []string) {
	q := quietHours{loc: loc}
	var problems []string
	for i, e := range entries {
		w, err := parseQuietWindow(e)
		if err != nil {
			problems = append(problems, fmt.Sprintf("screens.quiet_hours[%d]: %q %s (examples: \"Mon-Fri 19:00-07:00\", \"Sat-Sun\", \"12:00-13:00\")", i, e, err))
			continue
		}
		q.windows = append(q.windows, w)
	}
	return q, problems
}

func parseQuietWindow(s string) (quietWindow, error) {
	var w quietWindow
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 2 {
		return w, fmt.Errorf("is not days, a time range, or days and a time range")
	}
	daysSet, timesSet := false, false
	for _, f := range fields {
		switch {
		case strings.Contains(f, ":"):
			if timesSet {
				return w, fmt.Errorf("has two time ranges")
			}
			from, to, ok := strings.Cut(f, "-")
			if !ok {
				return w, fmt.Errorf("has a time range without an end")
			}
			var err error
			if w.start, err = minuteOfDay(from); err != nil {
				return w, err
			}
			if w.end, err = minuteOfDay(to); err != nil {
				return w, err
			}
			timesSet = true
		default:
			if daysSet {
				return w, fmt.Errorf("has two sets of days")
			}
			for part := range strings.SplitSeq(strings.ToLower(f), ",") {
				from, to, isRange := strings.Cut(part, "-")
				a, ok := weekdays[from]
				if !ok {
					return w, fmt.Errorf("names no weekday in %q", part)
				}
				b := a
				if isRange {
					if b, ok = weekdays[to]; !ok {
						return w, fmt.Errorf("names no weekday in %q", part)
					}
				}
				for d := a; ; d = (d + 1) % 7 {
					w.days[d] = true
					if d == b {
						break
					}
				}
			}
			daysSet = true
		}
	}
	if !daysSet {
		w.days = [7]bool{true, true, true, true, true, true, true}
	}
	return w, nil
}

func minuteOfDay(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	if err != nil {
		return 0, fmt.Errorf("has %q, not a time like 19:00", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// quiet reports whether t falls in a window.
func (q quietHours) quiet(t time.Time) bool {
	if len(q.windows) == 0 {
		return false
	}
	t = t.In(q.loc)
	minute := t.Hour()*60 + t.Minute()
	today := t.Weekday()
	yesterday := (today + 6) % 7
	for _, w := range q.windows {
		switch {
		case w.start == w.end: // the whole day
			if w.days[today] {
				return true
			}
		case w.start < w.end:
			if w.days[today] && minute >= w.start && minute < w.end {
				return true
			}
		default: // a night: from the evening of a day listed to the next morning
			if w.days[today] && minute >= w.start || w.days[yesterday] && minute < w.end {
				return true
			}
		}
	}
	return false
}

// checkQuiet puts the screens to rest, or wakes them, when the quiet hours begin or end.
func (s *Server) checkQuiet(now time.Time) {
	q := s.quiet.quiet(now)
	if s.quietNow.Swap(q) != q {
		s.log.Info("quiet hours", slog.Bool("quiet", q))
		s.pushQuiet(q)
	}
}
