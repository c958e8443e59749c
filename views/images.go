package views

import (
	"math"
	"strconv"
)

// slideSizes is the sizes attribute of a slide's picture: how wide it is drawn on each
// screen, so that the browser takes the narrowest kept width that fills it (a 720p TV
// the 1280 px one, a 4K TV the 3840 px one). The picture covers its box (object-fit:
// cover), so it is drawn as wide as the box, or wider when the box is taller than the
// picture: as screen.css lays a slide out, the box is the screen on a photo-led slide,
// 56 % of its width beside the text, and its width by 40 % of its height on a portrait
// screen. The wider of two lengths is chosen with media conditions rather than max(),
// which Chromium before 79 does not read in sizes.
func slideSizes(s Slide) string {
	if s.ImageWidth <= 0 || s.ImageHeight <= 0 {
		return ""
	}
	r := float64(s.ImageWidth) / float64(s.ImageHeight)
	boxWidth := 56.0
	if photoLed(s) {
		boxWidth = 100
	}
	return "(max-aspect-ratio: 1/1) and (min-aspect-ratio: " + ratio(0.4*r) + ") 100vw, " +
		"(max-aspect-ratio: 1/1) " + vh(40*r) + ", " +
		"(min-aspect-ratio: " + ratio(100*r/boxWidth) + ") " + strconv.FormatFloat(boxWidth, 'f', -1, 64) + "vw, " +
		vh(100*r)
}

// thumbSizes is the sizes attribute of an embed's thumbnail: 64 px (screen.css).
const thumbSizes = "64px"

// ratio writes an aspect ratio for a media query, in the integers old browsers need.
func ratio(r float64) string {
	return strconv.Itoa(int(math.Ceil(r*1000))) + "/1000"
}

// vh writes a length in vh, rounded down to a hundredth: a 16:9 picture on a 720p panel
// must come out at 1280 px and not a hair over, or the browser takes the next width.
func vh(v float64) string { return strconv.FormatFloat(math.Floor(v*100)/100, 'f', -1, 64) + "vh" }

// plural writes n with the noun that fits it: "1 image", "3 images".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
