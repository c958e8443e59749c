package media

import "time"

// Why an image could not be had: the reasons label the failures metric and the status
// page says them.
const (
	ReasonURL           = "url"             // not an http(s) URL
	ReasonAddress       = "address"         // a loopback, private or link-local address
	ReasonStatus        = "status"          // the host answered other than 200
	ReasonNetwork       = "network"         // refused, reset, cut off
	ReasonTimeout       = "timeout"         // no answer in time
	ReasonTooLarge      = "too_large"       // over media.max_image_mb
	ReasonTooManyPixels = "too_many_pixels" // over media.max_megapixels, read from the header
	ReasonFormat        = "format"          // not JPEG, PNG, GIF or WebP (an SVG, an HTML page)
	ReasonDecode        = "decode"          // a broken file of a kept format
	ReasonFull          = "cache_full"      // media.cache_mb is taken by images the news shows
)

// Failure says why an image could not be had, and whether asking again may help.
type Failure struct {
	Reason    string
	Detail    string
	Permanent bool // asking the same URL again will not help
}

func (f *Failure) Error() string {
	if f.Detail == "" {
		return "media: " + f.Reason
	}
	return "media: " + f.Reason + ": " + f.Detail
}

// UserlistFailures are the images of one userlist's news that could not be had.
type UserlistFailures struct {
	Count  int       // images its current news references that are not shown
	Reason string    // of the latest failure
	Detail string    // of the latest failure
	At     time.Time // of the latest failure
}
