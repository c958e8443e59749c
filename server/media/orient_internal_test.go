package media

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"github.com/spencer-signage/signage/server/media/mediatest"
)

// TestUpright turns a 3 × 2 picture whose pixels are numbered, stored as each EXIF
// orientation says, and checks where every pixel lands (the EXIF 2.32 table: 6 is
// "the 0th row is the visual right-hand side", so the picture is turned clockwise).
func TestUpright(t *testing.T) {
	// Stored:  0 1 2
	//          3 4 5
	stored := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		stored.SetRGBA(i%3, i/3, color.RGBA{uint8(i), 0, 0, 255})
	}
	for o, want := range map[Orientation][][]int{
		1: {{0, 1, 2}, {3, 4, 5}},
		2: {{2, 1, 0}, {5, 4, 3}},
		3: {{5, 4, 3}, {2, 1, 0}},
		4: {{3, 4, 5}, {0, 1, 2}},
		5: {{0, 3}, {1, 4}, {2, 5}},
		6: {{3, 0}, {4, 1}, {5, 2}},
		7: {{5, 2}, {4, 1}, {3, 0}},
		8: {{2, 5}, {1, 4}, {0, 3}},
	} {
		got := upright(stored, o)
		if got.Rect.Dy() != len(want) || got.Rect.Dx() != len(want[0]) {
			t.Errorf("orientation %d: %v, want %d×%d", o, got.Rect, len(want[0]), len(want))
			continue
		}
		for y, row := range want {
			for x, n := range row {
				if r := got.RGBAAt(x, y).R; int(r) != n {
					t.Errorf("orientation %d: (%d,%d) holds pixel %d, want %d", o, x, y, r, n)
				}
			}
		}
	}
}

// TestJPEGOrientation reads the tag where cameras write it, and 1 from anything else.
func TestJPEGOrientation(t *testing.T) {
	jpg := mediatest.Photo(16, 16)
	for o := uint16(1); o <= 8; o++ {
		if got := jpegOrientation(mediatest.WithOrientation(jpg, o)); got != Orientation(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	withSix := mediatest.WithOrientation(jpg, 6)
	for name, b := range map[string][]byte{
		"no EXIF":            jpg,
		"not a JPEG":         []byte("GIF89a"),
		"empty":              nil,
		"out of range":       mediatest.WithOrientation(jpg, 9),
		"cut in the segment": withSix[:20],
		"cut in the header":  withSix[:5],
		"huge entry count":   bytes.Replace(bytes.Replace(withSix, []byte{0, 0, 0, 8, 0, 1}, []byte{0, 0, 0, 8, 0xFF, 0xFF}, 1), []byte{0x01, 0x12}, []byte{0x01, 0x13}, 1),
		"IFD past the end":   bytes.Replace(withSix, []byte{0, 0, 0, 8, 0, 1}, []byte{0x7F, 0xFF, 0xFF, 0xFF, 0, 1}, 1),
		"long, not short":    bytes.Replace(withSix, []byte{0x01, 0x12, 0, 3}, []byte{0x01, 0x12, 0, 4}, 1),
	} {
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

// FuzzJPEGOrientation: no input makes the reader panic or answer out of range.
func FuzzJPEGOrientation(f *testing.F) {
	f.Add(mediatest.WithOrientation(mediatest.Photo(8, 8), 6))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 8, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
