package mediatest

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// TestPNGBombIsAValidPNG: the bomb's pieces, put together, decode into the black
// picture it says it holds, whatever the number of chunks and the rows left over.
func TestPNGBombIsAValidPNG(t *testing.T) {
	for _, size := range [][2]int{{300, 4000}, {4000, 250}, {40, 100}, {7, 3}, {2000, 1000}} {
		m, err := png.Decode(bytes.NewReader(PNGBomb(size[0], size[1])))
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		g, ok := m.(*image.Gray)
		if !ok || g.Rect.Dx() != size[0] || g.Rect.Dy() != size[1] || bytes.ContainsFunc(g.Pix, func(r rune) bool { return r != 0 }) {
			t.Errorf("%v: %T %v", size, m, m.Bounds())
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(PNGBomb(20000, 20000)))
	if err != nil || cfg.Width != 20000 || cfg.Height != 20000 {
		t.Errorf("the bomb says %d×%d (%v)", cfg.Width, cfg.Height, err)
	}
}
