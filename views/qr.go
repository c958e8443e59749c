package views

import (
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QRCode draws a QR code of link as one SVG path, generated here (no third-party
// service). Runs of dark modules in a row become one rectangle to keep the path short.
// It returns nil for an empty link or one too long to encode.
func QRCode(link string) *QR {
	if link == "" {
		return nil
	}
	code, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return nil
	}
	bits := code.Bitmap() // quiet zone included
	var b strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			b.WriteString("M" + strconv.Itoa(start) + " " + strconv.Itoa(y) + "h" + strconv.Itoa(x-start) + "v1h-" + strconv.Itoa(x-start) + "z")
		}
	}
	return &QR{Size: len(bits), Path: b.String()}
}
