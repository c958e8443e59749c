package media_test

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/media/mediatest"
)

const ul = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"

// serveLibrary mounts l at /media/ on a real HTTP server.
func serveLibrary(t *testing.T, l *media.Library) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /media/{name}", l)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func widths(p media.Picture) []string {
	var out []string
	for _, v := range p.Variants {
		out = append(out, fmt.Sprintf("%dx%d", v.Width, v.Height))
	}
	return out
}

// TestVariantsAreMadeOnceAndServedImmutable: a 4000 × 1000 photo is kept in the four
// widths screens take, each served with a year's immutable caching, a strong ETag, its
// type from its bytes, HEAD and 304; a name not kept is 404, and so is anything of the
// directory that is not a variant.
func TestVariantsAreMadeOnceAndServedImmutable(t *testing.T) {
	h := newHost(t)
	u := h.Put("/news/photo.jpg", "application/octet-stream", mediatest.WithOrientation(mediatest.Photo(4000, 1000), 1))
	l := open(t, func(c *media.Config) { c.Dir = t.TempDir() }, h)
	l.Want(ul, []media.Ref{{Item: "item", URL: u}})
	p, ok := settled(t, l, ul, u)
	if !ok {
		t.Fatalf("not kept: %+v", l.Failures())
	}
	if got, want := widths(p), []string{"640x160", "1280x320", "1920x480", "3840x960"}; !slices.Equal(got, want) {
		t.Errorf("variants %v, want %v", got, want)
	}
	if p.Width != 4000 || p.Height != 1000 {
		t.Errorf("picture %d×%d, want 4000×1000", p.Width, p.Height)
	}
	base := serveLibrary(t, l)
	for _, v := range p.Variants {
		resp, body := get(t, http.MethodGet, base+"/media/"+v.Name)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", v.Name, resp.StatusCode)
		}
		for k, want := range map[string]string{
			"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/jpeg",
			"X-Content-Type-Options": "nosniff", "Etag": v.ETag,
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s %s = %q, want %q", v.Name, k, got, want)
			}
		}
		if strings.HasPrefix(v.ETag, "W/") || len(v.ETag) < 10 {
			t.Errorf("ETag %q is not a strong validator", v.ETag)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil || format != "jpeg" || cfg.Width != v.Width || cfg.Height != v.Height {
			t.Errorf("%s holds %s %d×%d (%v)", v.Name, format, cfg.Width, cfg.Height, err)
		}
		if bytes.Contains(body, []byte("Exif\x00\x00")) {
			t.Errorf("%s carries the original's EXIF", v.Name)
		}
		head, hb := get(t, http.MethodHead, base+"/media/"+v.Name)
		if head.StatusCode != http.StatusOK || len(hb) != 0 || head.Header.Get("Content-Length") != fmt.Sprint(len(body)) || head.Header.Get("Etag") != v.ETag {
			t.Errorf("HEAD %s: %d, %d bytes, length %s", v.Name, head.StatusCode, len(hb), head.Header.Get("Content-Length"))
		}
		if nm, _ := get(t, http.MethodGet, base+"/media/"+v.Name, "If-None-Match", v.ETag); nm.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: %d, want 304", v.Name, nm.StatusCode)
		}
	}
	for _, name := range []string{"0123456789abcdef0123456789abcdef-640.jpg", "index.json", "..%2findex.json", p.Hash} {
		if resp, _ := get(t, http.MethodGet, base+"/media/"+name); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/media/%s: %d, want 404", name, resp.StatusCode)
		}
	}
	if n := h.Requests(); n != 1 {
		t.Errorf("the host was asked %d times, want once", n)
	}
}

// TestOrientationIsApplied: a photo stored sideways with EXIF orientation 6 (turn it
// clockwise to stand upright) is kept upright: portrait, its bottom-left quarter at the
// top left.
func TestOrientationIsApplied(t *testing.T) {
	h := newHost(t)
	u := h.Put("/sideways.jpg", "image/jpeg", mediatest.WithOrientation(mediatest.Photo(900, 600), 6))
	l := open(t, nil, h)
	l.Want(ul, []media.Ref{{Item: "item", URL: u}})
	p, ok := settled(t, l, ul, u)
	if !ok {
		t.Fatalf("not kept: %+v", l.Failures())
	}
	if p.Width != 600 || p.Height != 900 || !slices.Equal(widths(p), []string{"600x900"}) {
		t.Fatalf("picture %d×%d, variants %v; want 600×900 upright", p.Width, p.Height, widths(p))
	}
	_, body := get(t, http.MethodGet, serveLibrary(t, l)+"/media/"+p.Variants[0].Name)
	m, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y    int
		name    string
		r, g, b uint32
	}{{20, 20, "blue", 0, 0, 220}, {580, 20, "red", 220, 0, 0}, {20, 880, "white", 255, 255, 255}, {580, 880, "green", 0, 200, 0}} {
		r, g, b, _ := m.At(c.x, c.y).RGBA()
		if diff(r>>8, c.r) > 24 || diff(g>>8, c.g) > 24 || diff(b>>8, c.b) > 24 {
			t.Errorf("(%d,%d) = %d,%d,%d, want %s", c.x, c.y, r>>8, g>>8, b>>8, c.name)
		}
	}
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestOnlyRasterImagesAreKept: JPEG, PNG (transparency kept, as PNG), GIF and WebP are
// kept, judged by their bytes; an SVG with a script, an HTML page and text are not,
// whatever type they were sent as, and nothing of them is ever served.
func TestOnlyRasterImagesAreKept(t *testing.T) {
	h := newHost(t)
	var gifBytes bytes.Buffer
	if err := gif.Encode(&gifBytes, mediatest.Quarters(300, 200), nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile("testdata/small.webp")
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]struct {
		url, contentType string
	}{
		"jpeg": {h.Put("/a.jpg", "image/jpeg", mediatest.Photo(300, 200)), "image/jpeg"},
		"png":  {h.Put("/b.png", "image/png", mediatest.TransparentPNG(300, 200)), "image/png"},
		"gif":  {h.Put("/c", "text/plain", gifBytes.Bytes()), "image/jpeg"}, // opaque: a JPEG
		"webp": {h.Put("/d.webp", "image/webp", webp), "image/jpeg"},
	}
	bad := map[string]string{
		"svg":  h.Put("/e.svg", "image/jpeg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>fetch('/admin')</script><rect width="10" height="10"/></svg>`)),
		"html": h.Put("/f.png", "image/png", []byte(`<!DOCTYPE html><html><script>alert(1)</script></html>`)),
		"text": h.Put("/g.jpg", "image/jpeg", []byte("not an image at all")),
	}
	l := open(t, nil, h)
	var refs []media.Ref
	for _, g := range good {
		refs = append(refs, media.Ref{Item: g.url, URL: g.url})
	}
	for _, u := range bad {
		refs = append(refs, media.Ref{Item: u, URL: u})
	}
	l.Want(ul, refs)
	waitFor(t, "every image answered", func() bool { return l.Stats().Pictures == len(good) && l.Failures()[ul].Count == len(bad) })
	base := serveLibrary(t, l)
	for name, g := range good {
		p, ok := l.Image(ul, g.url, g.url)
		if !ok {
			t.Errorf("%s not kept", name)
			continue
		}
		resp, body := get(t, http.MethodGet, base+"/media/"+p.Variants[0].Name)
		if got := resp.Header.Get("Content-Type"); got != g.contentType || http.DetectContentType(body) != g.contentType {
			t.Errorf("%s served as %s, sniffed %s; want %s", name, got, http.DetectContentType(body), g.contentType)
		}
	}
	for name, u := range bad {
		if _, ok := l.Image(ul, u, u); ok {
			t.Errorf("%s kept", name)
		}
	}
	if f := l.Failures()[ul]; f.Reason != media.ReasonFormat {
		t.Errorf("failure %+v, want reason format", f)
	}
	if got := l.Stats().Failures[media.ReasonFormat]; got != int64(len(bad)) {
		t.Errorf("format failures counted %d, want %d", got, len(bad))
	}
}

// TestNeverReachesLoopbackOrPrivateAddresses: URLs at another loopback port, at a name
// that resolves to loopback, at the cloud metadata address, and a redirect from an
// allowed host to a loopback one are all refused: the listener they point at accepts no
// connection at all.
func TestNeverReachesLoopbackOrPrivateAddresses(t *testing.T) {
	allowed, other := newHost(t), newHost(t)
	other.Put("/secret.jpg", "image/jpeg", mediatest.Photo(64, 64))
	port := other.Port()
	redirect := allowed.URL + "/redirect"
	allowed.Handle(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/secret.jpg", http.StatusFound)
	})
	urls := []string{
		other.URL + "/secret.jpg",
		"http://localhost:" + port + "/secret.jpg",
		"http://[::ffff:127.0.0.1]:" + port + "/secret.jpg",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		redirect,
	}
	l := open(t, nil, allowed)
	var refs []media.Ref
	for _, u := range urls {
		refs = append(refs, media.Ref{Item: u, URL: u})
	}
	l.Want(ul, refs)
	waitFor(t, "every URL refused", func() bool { return l.Failures()[ul].Count == len(urls) })
	if n := other.Conns(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections, want 0", n)
	}
	if got := l.Stats().Failures[media.ReasonAddress]; got != int64(len(urls)) {
		t.Errorf("address failures %d, want %d: %+v", got, len(urls), l.Stats().Failures)
	}
	if allowed.Requests() != 1 {
		t.Errorf("the allowed host answered %d requests, want the one redirect", allowed.Requests())
	}
}

// TestPixelLimitIsReadFromTheHeader: a PNG that says it is 10000 × 10000 is refused
// from its header: too many pixels, never decoded.
func TestPixelLimitIsReadFromTheHeader(t *testing.T) {
	h := newHost(t)
	u := h.Put("/bomb.png", "image/png", mediatest.PNGBomb(10000, 10000))
	l := open(t, nil, h)
	l.Want(ul, []media.Ref{{Item: "item", URL: u}})
	if _, ok := settled(t, l, ul, u); ok {
		t.Fatal("the bomb was kept")
	}
	if f := l.Failures()[ul]; f.Reason != media.ReasonTooManyPixels {
		t.Errorf("failure %+v, want too_many_pixels", f)
	}
}

// TestSizeLimit: a body over the limit is refused, announced or not.
func TestSizeLimit(t *testing.T) {
	h := newHost(t)
	big := append(mediatest.Photo(64, 64), bytes.Repeat([]byte{0}, 2<<20)...)
	announced := h.Put("/big.jpg", "image/jpeg", big)
	chunked := h.URL + "/chunked.jpg"
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/chunked.jpg" {
			w.Write(big) //nolint:errcheck
			return
		}
		for i := 0; i < len(big); i += 4096 {
			w.Write(big[i:min(i+4096, len(big))]) //nolint:errcheck
			w.(http.Flusher).Flush()
		}
	})
	l := open(t, func(c *media.Config) { c.MaxBytes = 1 << 20 }, h)
	l.Want(ul, []media.Ref{{Item: "a", URL: announced}, {Item: "b", URL: chunked}})
	waitFor(t, "both refused", func() bool { return l.Failures()[ul].Count == 2 })
	if got := l.Stats().Failures[media.ReasonTooLarge]; got != 2 {
		t.Errorf("too_large failures %d, want 2: %+v", got, l.Stats().Failures)
	}
}

// TestTimeout: a host that does not answer in time is a failure, tried again later.
func TestTimeout(t *testing.T) {
	h := newHost(t)
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	u := h.URL + "/slow.jpg"
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	})
	l := open(t, func(c *media.Config) { c.Timeout = 300 * time.Millisecond }, h)
	l.Want(ul, []media.Ref{{Item: "item", URL: u}})
	if _, ok := settled(t, l, ul, u); ok {
		t.Fatal("kept")
	}
	if f := l.Failures()[ul]; f.Reason != media.ReasonTimeout {
		t.Errorf("failure %+v, want timeout", f)
	}
}

// TestSamePictureFromANewURLIsKeptOnce: a URL whose query changed (a renewed signature)
// is fetched once, found to hold the same bytes, and not kept twice.
func TestSamePictureFromANewURLIsKeptOnce(t *testing.T) {
	h := newHost(t)
	dir := t.TempDir()
	img := mediatest.Photo(800, 450)
	h.Put("/p.jpg", "image/jpeg", img)
	l := open(t, func(c *media.Config) { c.Dir = dir }, h)
	u1, u2 := h.URL+"/p.jpg?sig=1", h.URL+"/p.jpg?sig=2"
	l.Want(ul, []media.Ref{{Item: "item", URL: u1}})
	p1, ok := settled(t, l, ul, u1)
	if !ok {
		t.Fatal("not kept")
	}
	files := dirFiles(t, dir)
	l.Want(ul, []media.Ref{{Item: "item", URL: u2}})
	waitFor(t, "the new URL fetched", func() bool { return l.Stats().Fetches == 2 })
	p2, ok := settled(t, l, ul, u2)
	if !ok || p2.Hash != p1.Hash {
		t.Fatalf("the new URL gave %v %v, want the same picture", p2.Hash, ok)
	}
	for range 3 { // the news arriving again costs nothing
		l.Want(ul, []media.Ref{{Item: "item", URL: u2}})
	}
	if st := l.Stats(); st.Pictures != 1 || st.Fetches != 2 {
		t.Errorf("%d pictures after %d fetches, want 1 after 2", st.Pictures, st.Fetches)
	}
	if got := dirFiles(t, dir); !slices.Equal(got, files) {
		t.Errorf("files %v, want still %v", got, files)
	}
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestKeptAcrossARestartWhileTheHostIsDown: what was kept is served after a restart
// without asking the host, which is down by then.
func TestKeptAcrossARestartWhileTheHostIsDown(t *testing.T) {
	h := newHost(t)
	dir := t.TempDir()
	u := h.Put("/p.jpg", "image/jpeg", mediatest.Photo(1400, 700))
	l, err := media.Open(media.Config{Dir: dir, MaxBytes: 20 << 20, MaxPixels: 50e6, CacheBytes: 1 << 30, AllowedHosts: []string{h.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	l.Want(ul, []media.Ref{{Item: "item", URL: u}})
	before, ok := settled(t, l, ul, u)
	l.Close()
	if !ok {
		t.Fatal("not kept")
	}
	h.Close()
	again := open(t, func(c *media.Config) { c.Dir = dir })
	again.Want(ul, []media.Ref{{Item: "item", URL: u}})
	p, ok := again.Image(ul, "item", u)
	if !ok || p.Hash != before.Hash || len(p.Variants) != len(before.Variants) {
		t.Fatalf("after the restart: %+v %v", p, ok)
	}
	if resp, _ := get(t, http.MethodGet, serveLibrary(t, again)+"/media/"+p.Variants[1].Name); resp.StatusCode != http.StatusOK {
		t.Errorf("served %d after the restart", resp.StatusCode)
	}
	if n := again.Stats().Fetches; n != 0 {
		t.Errorf("%d fetches after the restart, want 0", n)
	}
}

// TestAnItemKeepsItsPictureWhileItsNewURLCannotBeHad: an item whose image URL changed
// (a signature renewed) shows its previous picture while the new URL is fetched or
// fails; a new URL that holds no image at all (an SVG) is not papered over.
func TestAnItemKeepsItsPictureWhileItsNewURLCannotBeHad(t *testing.T) {
	h := newHost(t)
	first := h.Put("/p.jpg", "image/jpeg", mediatest.Photo(800, 600))
	expired := h.URL + "/expired.jpg"
	svg := h.Put("/new.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
	h.Put("/expired.jpg", "text/plain", nil)
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/expired.jpg" {
			http.Error(w, "signature expired", http.StatusForbidden)
			return
		}
		f := h.File(r.URL.Path)
		w.Header().Set("Content-Type", f.ContentType)
		w.Write(f.Body) //nolint:errcheck
	})
	l := open(t, nil, h)
	l.Want(ul, []media.Ref{{Item: "item", URL: first}})
	p, ok := settled(t, l, ul, first)
	if !ok {
		t.Fatal("not kept")
	}
	l.Want(ul, []media.Ref{{Item: "item", URL: expired}})
	waitFor(t, "the expired URL tried", func() bool { return l.Failures()[ul].Count == 1 })
	if got, ok := l.Image(ul, "item", expired); !ok || got.Hash != p.Hash {
		t.Errorf("with its new URL expired, the item shows %v %v; want its previous picture", got.Hash, ok)
	}
	if _, ok := l.Image(ul, "other-item", expired); ok {
		t.Error("another item shows the picture")
	}
	l.Want(ul, []media.Ref{{Item: "item", URL: svg}})
	waitFor(t, "the SVG refused", func() bool { return l.Failures()[ul].Reason == media.ReasonFormat })
	if _, ok := l.Image(ul, "item", svg); ok {
		t.Error("an item whose new image is an SVG still shows its old picture")
	}
}

// TestAPIHostGetsTheToken: an image on the API host is allowed (a loopback one here)
// and fetched with the token; an image elsewhere never sees it.
func TestAPIHostGetsTheToken(t *testing.T) {
	api, cdn := newHost(t), newHost(t)
	var seen sync.Map
	for _, h := range []*mediatest.Host{api, cdn} {
		h.Put("/a.jpg", "image/jpeg", mediatest.Photo(100, 100))
		h.Handle(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(h.Addr(), r.Header.Get("Authorization"))
			w.Write(h.File(r.URL.Path).Body) //nolint:errcheck
		})
	}
	auth := &authorizer{token: "tok-123"}
	l := open(t, func(c *media.Config) { c.APIURL, c.Authorize = api.URL+"/api", auth }, cdn)
	l.Want(ul, []media.Ref{{Item: "a", URL: api.URL + "/a.jpg"}, {Item: "b", URL: cdn.URL + "/a.jpg"}})
	waitFor(t, "both fetched", func() bool { return l.Stats().Fetches == 2 && len(l.Failures()) == 0 && l.Stats().Pictures == 1 })
	if got, _ := seen.Load(api.Addr()); got != "Bearer tok-123" {
		t.Errorf("the API host got Authorization %q, want the token", got)
	}
	if got, _ := seen.Load(cdn.Addr()); got != "" {
		t.Errorf("another host got Authorization %q", got)
	}
	if auth.calls.Load() != 1 {
		t.Errorf("authorizer called %d times, want once", auth.calls.Load())
	}
}

type authorizer struct {
	token string
	calls atomic.Int64
}

func (a *authorizer) Authorized(req *http.Request, send func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	a.calls.Add(1)
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	return send(r)
}

// TestUnusedPicturesGoAfterAWeekAndTheShelfIsBounded: a picture no current item
// references is kept for 7 days and then removed, files and all; over media.cache_mb,
// pictures not in use go first, least recently used first, and a new one finds no room
// when the pictures in use take it all.
func TestUnusedPicturesGoAfterAWeekAndTheShelfIsBounded(t *testing.T) {
	h := newHost(t)
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	advance := func(d time.Duration) { now.Add(int64(d)) }
	a := h.Put("/a.jpg", "image/jpeg", mediatest.Photo(1000, 800))
	l := open(t, func(c *media.Config) { c.Dir, c.Now = dir, clock }, h)
	l.Want(ul, []media.Ref{{Item: "a", URL: a}})
	pa, ok := settled(t, l, ul, a)
	if !ok {
		t.Fatal("not kept")
	}
	l.Want(ul, nil) // the item is gone from the news
	advance(6 * 24 * time.Hour)
	l.Sweep()
	if _, err := os.Stat(filepath.Join(dir, pa.Variants[0].Name)); err != nil {
		t.Fatalf("removed after 6 days: %v", err)
	}
	advance(2 * 24 * time.Hour)
	l.Sweep()
	if _, err := os.Stat(filepath.Join(dir, pa.Variants[0].Name)); !os.IsNotExist(err) {
		t.Errorf("still there after 8 days unused: %v", err)
	}
	if st := l.Stats(); st.Pictures != 0 || st.Bytes != 0 {
		t.Errorf("after the sweep: %+v", st)
	}

	// The bound: room for about one picture.
	var size int64
	for _, v := range pa.Variants {
		size += v.Size
	}
	b := h.Put("/b.jpg", "image/jpeg", mediatest.Photo(1000, 801))
	c := h.Put("/c.jpg", "image/jpeg", mediatest.Photo(1000, 802))
	bounded := open(t, func(cf *media.Config) { cf.Dir, cf.Now, cf.CacheBytes = t.TempDir(), clock, size*3/2 }, h)
	bounded.Want(ul, []media.Ref{{Item: "a", URL: a}})
	if _, ok := settled(t, bounded, ul, a); !ok {
		t.Fatal("a not kept")
	}
	bounded.Want(ul, []media.Ref{{Item: "b", URL: b}}) // a is no longer in use
	if _, ok := settled(t, bounded, ul, b); !ok {
		t.Fatalf("b not kept: %+v", bounded.Failures())
	}
	if _, ok := bounded.Image(ul, "a", a); ok {
		t.Error("a, not in use, was kept over the bound")
	}
	bounded.Want(ul, []media.Ref{{Item: "b", URL: b}, {Item: "c", URL: c}}) // both in use
	if _, ok := settled(t, bounded, ul, c); ok {
		t.Error("c kept over the bound although b is in use")
	}
	if f := bounded.Failures()[ul]; f.Reason != media.ReasonFull {
		t.Errorf("failure %+v, want cache_full", f)
	}
	if st := bounded.Stats(); st.Bytes > size*3/2 {
		t.Errorf("%d bytes kept, over the bound of %d", st.Bytes, size*3/2)
	}
}
