package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"

	"golang.org/x/image/draw"
)

// Widths are the widths a picture is kept in: a 720p TV takes the 1280 one, full HD the
// 1920 one, 4K the 3840 one, and embeds and small panels the 640 one. A picture narrower
// than one of them is kept at its own width instead, never wider.
var Widths = []int{640, 1280, 1920, 3840}

// jpegQuality is that of the JPEG variants: no visible loss on a TV, about a tenth of the
// bytes of a camera's original.
const jpegQuality = 82

// variant is one size of a picture as made: the bytes and what they are.
type variant struct {
	width, height int
	data          []byte
	contentType   string
	ext           string
}

// targets are the widths of the variants of a picture w pixels wide, upright.
func targets(w int) []int {
	var out []int
	for _, t := range Widths {
		if t < w {
			out = append(out, t)
		}
	}
	if w <= Widths[len(Widths)-1] {
		out = append(out, w)
	}
	return out
}

// makeVariants decodes an original and makes its variants, smallest first: upright as its
// EXIF orientation says, without its metadata (the encoders write none), a JPEG when it
// is opaque and a PNG when it has transparency (a GIF is its first frame).
//
// Memory stays near the decoded original and one level below it, and time near 3 s for
// an 8000 × 6000 photo on a 2-core machine, fetch and writes included (make bench): the
// original is halved with a 2×2 average (bilinear at exactly half the size) while it is
// twice as large as the next variant, each halving replacing the previous level, and the
// last step, by less than half, is bilinear too (a mipmap, as GPUs filter). A collection
// after each large step returns the previous level before the next is allocated (the
// peak for an 8000 × 6000 photo went from 190 to 148 MB). draw's kernel filters were
// measured and left out: its Scale holds width × source height float64 quadruples
// (700 MB for the 3840 px variant of an 8000 × 6000 photo), and its Transform, which
// holds none, took 13 s for that photo.
func makeVariants(o *original) (width, height int, out []variant, err error) {
	orient := Orientation(1)
	if o.format == "jpeg" {
		orient = jpegOrientation(o.body)
	}
	img, _, err := image.Decode(bytes.NewReader(o.body))
	if err != nil {
		return 0, 0, nil, &Failure{Reason: ReasonDecode, Permanent: true, Detail: err.Error()}
	}

	sw, sh := img.Bounds().Dx(), img.Bounds().Dy()
	width, height = sw, sh
	if orient.transposed() {
		width, height = sh, sw
	}
	opaque := isOpaque(img)
	level := img
	widths := targets(width)
	out = make([]variant, len(widths))
	for i := len(widths) - 1; i >= 0; i-- { // widest first, so that each level serves the next
		tw := widths[i]
		th := max(1, (tw*height+width/2)/width)
		// The size in stored pixels, before the turn.
		w, h := tw, th
		if orient.transposed() {
			w, h = th, tw
		}
		for level.Bounds().Dx() >= 2*w && level.Bounds().Dy() >= 2*h {
			level = halve(level)
			runtime.GC() // the level before

		}
		m := upright(resize(level, w, h), orient)
		v, err := encode(m, opaque)
		if err != nil {
			return 0, 0, nil, err
		}
		out[i] = v
		runtime.GC()
	}
	return width, height, out, nil
}

// halve makes m half as large, each pixel the average of four.
func halve(m image.Image) image.Image {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), m, b, draw.Src, nil)
	return dst
}

// resize makes m exactly w × h.
func resize(m image.Image, w, h int) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if b.Dx() == w && b.Dy() == h {
		draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
		return dst
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), m, b, draw.Src, nil)
	return dst
}

func isOpaque(m image.Image) bool {
	if o, ok := m.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

func encode(m *image.RGBA, opaque bool) (variant, error) {
	var buf bytes.Buffer
	v := variant{width: m.Rect.Dx(), height: m.Rect.Dy()}
	if opaque {
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return v, fmt.Errorf("media: encode: %w", err)
		}
		v.contentType, v.ext = "image/jpeg", "jpg"
	} else {
		if err := png.Encode(&buf, m); err != nil {
			return v, fmt.Errorf("media: encode: %w", err)
		}
		v.contentType, v.ext = "image/png", "png"
	}
	v.data = buf.Bytes()
	return v, nil
}
