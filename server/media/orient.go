package media

import (
	"encoding/binary"
	"image"
)

// Orientation is the EXIF orientation of a photo (TIFF tag 0x0112): how the stored pixels
// must be turned to stand upright. 1 is upright; 5 to 8 swap width and height.
type Orientation int

// transposed reports whether the upright picture's width is the stored height.
func (o Orientation) transposed() bool { return o >= 5 && o <= 8 }

// jpegOrientation reads the orientation from a JPEG's EXIF segment, 1 when it has none.
//
// A reader of its own, rather than an EXIF library: only this one tag of the first IFD
// is needed, and the EXIF library at hand (goexif) multiplies a tag's count by its size
// in 32 bits, so a crafted file makes it allocate gigabytes. Here every offset is checked
// against the segment, which is at most 64 KiB, and nothing is allocated.
func jpegOrientation(b []byte) Orientation {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || marker >= 0xD0 && marker <= 0xD7:
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no EXIF before
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2 : i+4]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation finds tag 0x0112 in the first IFD of a TIFF structure.
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:4]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:8]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[ifd : ifd+2]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:e+2]) != 0x0112 {
			continue
		}
		// SHORT (3), count 1: the value sits in the first two bytes of the value field.
		if bo.Uint16(t[e+2:e+4]) != 3 || bo.Uint32(t[e+4:e+8]) != 1 {
			return 1
		}
		if o := Orientation(bo.Uint16(t[e+8 : e+10])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// upright turns m (stored pixels) as o says, so that it stands upright.
func upright(m *image.RGBA, o Orientation) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o.transposed() {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // mirrored, turned 90° counter-clockwise when stored
				dx, dy = y, x
			case 6: // stored turned 90° counter-clockwise: turn it clockwise
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8: // stored turned 90° clockwise: turn it counter-clockwise
				dx, dy = y, w-1-x
			}
			copy(out.Pix[dy*out.Stride+4*dx:dy*out.Stride+4*dx+4], row[4*x:4*x+4])
		}
	}
	return out
}
