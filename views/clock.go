package views

import (
	"encoding/json"
	"strconv"
	"time"
)

// The clock, the dates and the "last updated" time on a screen are the server's, in its
// screens.time_zone: signage networks often block NTP, and TVs keep the time zone they
// left the factory with, so the page never asks the device for either. The server
// renders its time into the page and into every answer to the page's polls; the script
// keeps the difference from the device's clock, and writes times in the zone from its
// UTC offset, which the server also sends, with the moment that offset changes next
// (daylight saving time) and the offset after it.

// Zone is a time zone as the screen's script knows it: its UTC offset now, in minutes
// east of UTC, and when that offset ends (milliseconds since the epoch, 0 for never)
// with the offset that follows.
type Zone struct {
	Offset int   `json:"offset"`
	Until  int64 `json:"until"`
	Next   int   `json:"next"`
}

// ZoneAt is the zone of t's location at t.
func ZoneAt(t time.Time) Zone {
	_, offset := t.Zone()
	z := Zone{Offset: offset / 60}
	if _, end := t.ZoneBounds(); !end.IsZero() {
		_, next := end.Zone()
		z.Until, z.Next = end.UnixMilli(), next/60
	}
	return z
}

// nowAttr is a time as the script reads it: milliseconds since the epoch.
func nowAttr(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// zoneAttr is the zone of t's location at t, as JSON.
func zoneAttr(t time.Time) string {
	b, _ := json.Marshal(ZoneAt(t)) // a struct of numbers: cannot fail
	return string(b)
}
