// Package mediatest makes images for the media tests (photos whose quarters show a turn,
// transparent PNGs, EXIF orientations, a PNG bomb) and serves them from an image host
// over real HTTP that counts what it is asked.
package mediatest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
)

// Host is an image host over real HTTP on a loopback port: it serves files by path and
// counts the connections it accepted and the requests it answered.
type Host struct {
	URL      string
	srv      *httptest.Server
	conns    atomic.Int64
	requests atomic.Int64
	agents   sync.Map // User-Agent -> *atomic.Int64

	mu      sync.Mutex
	files   map[string]File
	handler http.HandlerFunc
	down    bool
}

// File is what the host answers for a path.
type File struct {
	ContentType string
	Body        []byte
}

// NewHost starts a host on 127.0.0.1; Close stops it.
func NewHost() *Host {
	h := &Host{files: map[string]File{}}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	h.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.conns.Add(1)
		}
	}
	h.srv.Start()
	h.URL = h.srv.URL
	return h
}

// Close stops the host: connections are refused from then on.
func (h *Host) Close() { h.srv.Close() }

func (h *Host) serve(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	n, _ := h.agents.LoadOrStore(r.UserAgent(), new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	h.mu.Lock()
	f, ok := h.files[r.URL.RequestURI()]
	if !ok {
		f, ok = h.files[r.URL.Path]
	}
	fn, down := h.handler, h.down
	h.mu.Unlock()
	switch {
	case down:
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	case fn != nil:
		fn(w, r)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", f.ContentType)
		w.Write(f.Body) //nolint:errcheck
	}
}

// Put serves body at path (a path, or a path with its query for an exact match) and
// returns its URL.
func (h *Host) Put(path, contentType string, body []byte) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = File{contentType, body}
	return h.URL + path
}

// Remove stops serving path.
func (h *Host) Remove(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.files, path)
}

// File returns what the host serves at path.
func (h *Host) File(path string) File {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.files[path]
}

// Handle makes fn answer every request instead of the files.
func (h *Host) Handle(fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler = fn
}

// SetDown makes every request get 503 (down) or the files again.
func (h *Host) SetDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

// Addr is the host's host:port, as media.allowed_hosts names it.
func (h *Host) Addr() string { return strings.TrimPrefix(h.URL, "http://") }

// Port is the host's port.
func (h *Host) Port() string { return h.Addr()[strings.LastIndex(h.Addr(), ":")+1:] }

// Conns counts the connections the host accepted.
func (h *Host) Conns() int64 { return h.conns.Load() }

// Requests counts the requests the host answered.
func (h *Host) Requests() int64 { return h.requests.Load() }

// RequestsFrom counts the requests that came with a User-Agent containing agent.
func (h *Host) RequestsFrom(agent string) int64 {
	var n int64
	h.agents.Range(func(k, v any) bool {
		if strings.Contains(k.(string), agent) {
			n += v.(*atomic.Int64).Load()
		}
		return true
	})
	return n
}

// Photo is a w × h JPEG whose quarters have different colours (red top-left, green
// top-right, blue bottom-left, white bottom-right), so that a turn shows.
func Photo(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Quarters(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Quarters is Photo's picture.
func Quarters(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case x < w/2 && y < h/2:
				c = color.RGBA{220, 0, 0, 255}
			case y < h/2:
				c = color.RGBA{0, 200, 0, 255}
			case x < w/2:
				c = color.RGBA{0, 0, 220, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// TransparentPNG is a w × h PNG whose every other column is transparent.
func TransparentPNG(w, h int) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{0, 120, 200, uint8(255 * (x % 2))})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// WithOrientation inserts an EXIF segment saying orientation o after a JPEG's SOI.
func WithOrientation(b []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8))           //nolint:errcheck
	binary.Write(&tiff, binary.BigEndian, uint16(1))           //nolint:errcheck // one entry
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3}) //nolint:errcheck
	binary.Write(&tiff, binary.BigEndian, uint32(1))           //nolint:errcheck
	binary.Write(&tiff, binary.BigEndian, []uint16{o, 0})      //nolint:errcheck
	binary.Write(&tiff, binary.BigEndian, uint32(0))           //nolint:errcheck // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, b[2:]...)
}

// PNGBomb is a valid grey PNG of w × h black pixels: a few hundred kilobytes that decode
// into w × h bytes (400 MB for 20000 × 20000).
//
// Its pixels are compressed in chunks of at least 256 KiB, each ended by a flush (on a
// byte boundary, not final): a chunk of zeros compressed after zeros only refers back to
// zeros, so it decodes right after any 32 KiB of them, and is compressed once and
// repeated (compressing 400 MB would take seconds, more under the race detector). The
// Adler-32 of zeros is known: a stays 1, b counts the bytes.
func PNGBomb(w, h int) []byte {
	rowsPerChunk := max(1, (256<<10)/(w+1)+1)
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data))) //nolint:errcheck
		c := crc32.NewIEEE()
		io.WriteString(c, kind) //nolint:errcheck
		c.Write(data)           //nolint:errcheck
		out.WriteString(kind)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32()) //nolint:errcheck
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	chunk("IHDR", ihdr)

	rows := make([]byte, rowsPerChunk*(w+1)) // filter type 0 and w black pixels per row
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	compress := func(n int) []byte {
		start := z.Len()
		fw.Write(rows[:n]) //nolint:errcheck
		fw.Flush()         //nolint:errcheck
		return bytes.Clone(z.Bytes()[start:])
	}
	full, rest := h/rowsPerChunk, h%rowsPerChunk
	idat := bytes.NewBuffer([]byte{0x78, 0x01}) // zlib: deflate, 32 KiB window, no dictionary
	first := compress(len(rows))
	steady := compress(len(rows))
	if full > 0 {
		idat.Write(first)
		for range full - 1 {
			idat.Write(steady)
		}
	}
	var tail bytes.Buffer
	tw, _ := flate.NewWriter(&tail, flate.BestSpeed)
	if full > 0 {
		// The last rows and the final block, after history of zeros as the real stream has.
		tw.Write(rows) //nolint:errcheck
		tw.Flush()     //nolint:errcheck
		tail.Reset()
	}
	tw.Write(rows[:rest*(w+1)]) //nolint:errcheck
	tw.Close()                  //nolint:errcheck
	idat.Write(tail.Bytes())
	n := uint32((int64(h) * int64(w+1)) % 65521)
	binary.Write(idat, binary.BigEndian, n<<16|1) //nolint:errcheck
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// Scene is a w × h JPEG that compresses like a photo rather than a drawing: a sky that
// darkens, a horizon, and grain in every pixel (from a fixed seed, so the same bytes
// every time). An 8000 × 6000 one is about what a camera makes.
func Scene(w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(2463534242)
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			grain := int(seed%32) - 16
			var r, g, b int
			if y < h*3/5+int(float64(h)/12*math.Sin(float64(x)/float64(w)*7)) {
				r, g, b = 70+90*y/h, 120+80*y/h, 200+40*y/h // sky
			} else {
				r, g, b = 40+60*x/w, 110+50*y/h, 50 // fields
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = clamp(r+grain), clamp(g+grain), clamp(b+grain), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func clamp(v int) uint8 { return uint8(min(255, max(0, v))) }
