package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/browsertest"
	"github.com/spencer-signage/signage/server/media/mediatest"
)

// mediaItems are a slide with its photo beside a long text and a photo-led one, both
// with a 4000 × 2250 photo at url+"/a.jpg" and url+"/b.jpg".
func mediaItems(url string) []map[string]any {
	return []map[string]any{
		photoItem("split", url+"/a.jpg"),
		{"id": "photo", "title": "Snow tonight: the car park is gritted", "summary": "Park on levels −1 and −2.", "publishedAt": "2026-11-21T09:00:00Z", "image": url + "/b.jpg"},
	}
}

// mediaViewports are the TVs of the legibility rules with the width each one takes of a
// 4000 × 2250 photo, beside the text and full-bleed alike: a 720p TV the 1280 px one,
// full HD the 1920 px one, 4K the 3840 px one; a portrait stele draws it 1365 px wide (40 %
// of its height, 16:9), so 1920.
var mediaViewports = []struct{ w, h, want int }{
	{1280, 720, 1280}, {1920, 1080, 1920}, {3840, 2160, 3840}, {1080, 1920, 1920},
}

// mediaDOM reads every image of the page: where it was loaded from, whether it shows.
const mediaDOM = `Array.from(document.querySelectorAll('img')).map((img) => ({
  slide: img.closest('[data-id]') ? img.closest('[data-id]').getAttribute('data-id') : '',
  current: img.currentSrc, src: img.getAttribute('src') || '', srcset: img.getAttribute('srcset') || '',
  complete: img.complete, natural: img.naturalWidth,
}))`

type domImage struct {
	Slide    string `json:"slide"`
	Current  string `json:"current"`
	Src      string `json:"src"`
	Srcset   string `json:"srcset"`
	Complete bool   `json:"complete"`
	Natural  int    `json:"natural"`
}

// checkMediaDOM holds the page's images to what a screen on a closed network needs:
// every URL they name (src, srcset, the one loaded) is on our origin, each shows, and
// each took the width want.
func checkMediaDOM(t *testing.T, name, origin string, imgs []domImage, want int) {
	t.Helper()
	if len(imgs) != 2 {
		t.Fatalf("%s: %d images, want 2: %+v", name, len(imgs), imgs)
	}
	for _, img := range imgs {
		urls := []string{img.Current, origin + img.Src}
		for c := range strings.SplitSeq(img.Srcset, ",") {
			urls = append(urls, origin+strings.Fields(c)[0])
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, origin+"/media/") {
				t.Errorf("%s: slide %s names %q, not our /media/", name, img.Slide, u)
			}
		}
		// naturalWidth is in CSS pixels, corrected for the candidate's density: the file's
		// width shows in its name.
		if !img.Complete || img.Natural <= 0 {
			t.Errorf("%s: slide %s does not show %s", name, img.Slide, img.Current)
		}
		if !strings.HasSuffix(img.Current, fmt.Sprintf("-%d.jpg", want)) {
			t.Errorf("%s: slide %s loaded %s, want the %d px variant", name, img.Slide, img.Current, want)
		}
	}
}

// TestBrowserMediaFromOurOriginAlone: the screen's browser cannot reach the image host
// (its name does not resolve for it, as on a signage VLAN that reaches only the server),
// yet every photo shows, loaded from our origin, in the width its TV takes; and with the
// image host down, a screen opened anew still shows them.
func TestBrowserMediaFromOurOriginAlone(t *testing.T) {
	if os.Getenv("SIGNAGE_SKIP_BROWSER") == "1" {
		t.Skip("SIGNAGE_SKIP_BROWSER=1: browser tests skipped on purpose")
	}
	h := newHost(t)
	h.Put("/a.jpg", "image/jpeg", mediatest.Photo(4000, 2250))
	h.Put("/b.jpg", "image/jpeg", mediatest.Photo(4000, 2250))
	hostURL := "http://localhost:" + h.Port()
	e := newMediaEnv(t, nil, mediaItems(hostURL), func(c *server.Config) { c.Media.AllowedHosts = []string{"localhost:" + h.Port()} })
	e.waitImages("/screens/"+lobby, 2)

	for i, vp := range mediaViewports {
		name := fmt.Sprintf("%dx%d", vp.w, vp.h)
		t.Run(name, func(t *testing.T) {
			cdp, err := browsertest.LaunchChromium(context.Background(), t.TempDir(), chromedp.WindowSize(vp.w, vp.h),
				chromedp.Flag("host-resolver-rules", "MAP localhost ~NOTFOUND"))
			if err != nil {
				t.Fatalf("%v, or set SIGNAGE_SKIP_BROWSER=1 to skip the browser tests on purpose", err)
			}
			defer cdp.Close()
			b := &browser{ctx: cdp.Context(), cdp: cdp}
			if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(int64(vp.w), int64(vp.h))); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				// The host is up, and this browser cannot reach it.
				ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
				err := chromedp.Do(ctx, chromedp.Navigate(hostURL+"/a.jpg"))
				cancel()
				if err == nil || !strings.Contains(err.Error(), "ERR_NAME_NOT_RESOLVED") || h.RequestsFrom("Chrome") != 0 {
					t.Fatalf("the browser reached the image host (%v, %d requests)", err, h.RequestsFrom("Chrome"))
				}
				b.consoleErrors()
			}
			b.navigate(t, e.base+"/screens/"+lobby+"?interval=600")
			waitJS(t, b, 30*time.Second, "the photos", `Array.from(document.querySelectorAll('img')).every((img) => img.complete && img.naturalWidth > 0) && document.querySelectorAll('img').length === 2`)
			checkMediaDOM(t, name, e.base, eval[[]domImage](t, b, mediaDOM), vp.want)
			for _, shot := range []struct {
				slide int
				name  string
			}{{0, "media-photo-led"}, {1, "media-beside"}} {
				eval[bool](t, b, fmt.Sprintf(`(window.__signage.show(%d), true)`, shot.slide))
				waitJS(t, b, 15*time.Second, "the slide", fmt.Sprintf(`window.__signage.slideIndex() === %d && getComputedStyle(document.querySelector('.deck > .is-active .text')).opacity === '1'`, shot.slide))
				if dir := os.Getenv("SIGNAGE_LAYOUT_SHOTS"); dir != "" {
					b.screenshotTo(t, filepath.Join(dir, fmt.Sprintf("chromium-%s-%s.png", shot.name, name)))
				}
			}
			for _, msg := range b.consoleErrors() {
				t.Errorf("browser error: %s", msg)
			}
			if i == 0 {
				h.Close() // down for the other TVs
			}
		})
	}
	if n := h.RequestsFrom("Chrome"); n != 0 {
		t.Errorf("browsers asked the image host %d times", n)
	}
	if n := h.Requests(); n != 2 {
		t.Errorf("the image host was asked %d times, want twice (once per photo)", n)
	}
}

// TestBrowserMediaOnOldChromium: on Chromium 64 (Tizen 4, webOS 4, BrightSign), the
// photos come from our origin in the width each TV takes, read from srcset and sizes
// as that engine reads them. Each TV is a browser of its own: one that holds a wider
// variant in its memory cache already takes that one (and downloads nothing).
func TestBrowserMediaOnOldChromium(t *testing.T) {
	engine := browsertest.OldChromium(64)
	needEngine(t, engine)
	h := newHost(t)
	h.Put("/a.jpg", "image/jpeg", mediatest.Photo(4000, 2250))
	h.Put("/b.jpg", "image/jpeg", mediatest.Photo(4000, 2250))
	e := newMediaEnv(t, h, mediaItems(h.URL))
	e.waitImages("/screens/"+lobby, 2)
	h.Close()
	for _, vp := range mediaViewports {
		name := fmt.Sprintf("%dx%d", vp.w, vp.h)
		t.Run(name, func(t *testing.T) {
			o := on{t: t, b: launchEngine(t, engine)}
			o.open(e.base+"/screens/"+lobby+"?interval=600", vp.w, vp.h)
			if !o.wait(30*time.Second, `Array.from(document.querySelectorAll('img')).every((img) => img.complete && img.naturalWidth > 0) && document.querySelectorAll('img').length === 2`) {
				t.Fatalf("%s on %s: the photos do not show", name, engine.Name)
			}
			var imgs []domImage
			o.do(mediaDOM, &imgs)
			checkMediaDOM(t, name+" on "+engine.Name, e.base, imgs, vp.want)
			o.shot("media-" + name)
			o.errors(name)
		})
	}
}

// TestBrowserMediaKioskReloadsOfflineWithItsPhotos: a kiosk that reloads while the
// server is down shows the kept page with its photos, from the service worker's cache
// (the browser's own cache is emptied first, so that nothing else could hold them),
// which stays within its bound.
func TestBrowserMediaKioskReloadsOfflineWithItsPhotos(t *testing.T) {
	h := newHost(t)
	h.Put("/a.jpg", "image/jpeg", mediatest.Photo(1600, 900))
	h.Put("/b.jpg", "image/jpeg", mediatest.Photo(1600, 900))
	e := newMediaEnv(t, h, mediaItems(h.URL))
	e.waitImages("/screens/"+lobby, 2)
	b := newBrowser(t, 1280, 720)
	page := e.base + "/screens/" + lobby + "?interval=600"
	b.navigate(t, page)
	waitJS(t, b, 15*time.Second, "the service worker", `!!(navigator.serviceWorker && navigator.serviceWorker.controller)`)
	b.navigate(t, page) // through the worker now: it keeps the page and its photos
	const photosShow = `document.querySelectorAll('img').length === 2 && Array.from(document.querySelectorAll('img')).every((img) => img.complete && img.naturalWidth > 0)`
	waitJS(t, b, 30*time.Second, "the photos", photosShow)
	shown := eval[[]string](t, b, `Array.from(document.querySelectorAll('img')).map((img) => new URL(img.currentSrc).pathname)`)
	waitFor(t, 10*time.Second, "the photos in the worker's cache", func() bool {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		kept, err := browsertest.Eval[[]string](ctx, b.cdp, `caches.open('signage-media-v1').then((c) => c.keys()).then((k) => k.map((r) => new URL(r.url).pathname))`)
		for _, p := range shown {
			if err != nil || !slices.Contains(kept, p) {
				return false
			}
		}
		return true
	})

	// The worker keeps at most 48 photos, and never drops those of the page it keeps:
	// another userlist's 60 photos come through it (as decks sent over the WebSocket would
	// bring them), oldest dropped first.
	var many []map[string]any
	for i := range 60 {
		u := h.Put(fmt.Sprintf("/many/%d.jpg", i), "image/jpeg", mediatest.Photo(64+i, 48))
		many = append(many, photoItem(fmt.Sprint("m", i), u))
	}
	e.fake.SetPublications(canteen, many)
	e.srv.News().Get(canteen).FetchNow()
	others := e.waitImages("/screens/"+canteen, 60)
	var urls []string
	for _, img := range others {
		urls = append(urls, img.src)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	_, err := browsertest.Eval[bool](ctx, b.cdp, fmt.Sprintf(`%s.reduce((p, u) => p.then(() => fetch(u)), Promise.resolve()).then(() => true)`, jsArray(urls)))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the worker's cache within its bound, the kept page's photos in it", func() bool {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		kept, err := browsertest.Eval[[]string](ctx, b.cdp, `caches.open('signage-media-v1').then((c) => c.keys()).then((k) => k.map((r) => new URL(r.url).pathname))`)
		if err != nil || len(kept) != 48 || !slices.Contains(kept, urls[59]) || slices.Contains(kept, urls[0]) {
			return false
		}
		for _, p := range shown {
			if !slices.Contains(kept, p) {
				return false
			}
		}
		return true
	})

	e.stop()
	h.Close()
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.navigate(t, page)
	waitJS(t, b, 30*time.Second, "the kept page's photos", photosShow)
	for _, img := range eval[[]domImage](t, b, mediaDOM) {
		if !strings.HasPrefix(img.Current, e.base+"/media/") {
			t.Errorf("offline, slide %s shows %s", img.Slide, img.Current)
		}
	}
	for _, msg := range b.errorsBesidesTheOutage() {
		t.Errorf("browser error: %s", msg)
	}
}

// jsArray writes strings as a JavaScript array.
func jsArray(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// TestBrowserMediaPhotoArrivesWithoutAJump: a screen rotating through three slides shows
// the second, type-led, while its photo is fetched; when the photo arrives, the new deck
// (the same slides, with it) takes over at the next slide boundary and the rotation goes
// on to the third slide instead of starting over from the first.
func TestBrowserMediaPhotoArrivesWithoutAJump(t *testing.T) {
	h := newHost(t)
	release := make(chan struct{})
	photo := mediatest.Photo(1600, 900)
	h.Handle(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write(photo) //nolint:errcheck
	})
	item := func(id, day, image string) map[string]any {
		m := map[string]any{"id": id, "title": "Slide " + id, "summary": "Caption of slide " + id + ".", "publishedAt": "2026-11-" + day + "T09:00:00Z"}
		if image != "" {
			m["image"] = image
		}
		return m
	}
	e := newMediaEnv(t, h, []map[string]any{item("s0", "23", ""), item("s1", "22", h.URL+"/s1.jpg"), item("s2", "21", "")})
	waitFor(t, 10*time.Second, "the lobby's news", func() bool { return e.srv.News().Get(lobby).Content() != nil })
	b := newBrowser(t, 1280, 720)
	b.navigate(t, e.base+"/screens/"+lobby+"?interval=4")
	waitJS(t, b, 15*time.Second, "the screen", `!!window.__signage && window.__signage.connected() && window.__signage.slideCount() === 3`)
	before := eval[string](t, b, `window.__signage.version()`)
	eval[bool](t, b, `(window.__signage.show(1), true)`)
	waitJS(t, b, 10*time.Second, "the second slide", `window.__signage.slideIndex() === 1`)
	// The page notes every slide it shows, and the deck it shows, as they change.
	eval[bool](t, b, `(window.__seen = [], setInterval(() => window.__seen.push([window.__signage.version(), window.__signage.slideIndex()]), 20), true)`)
	close(release)
	waitJS(t, b, 20*time.Second, "the deck with the photo", `window.__signage.version() !== `+jsString(before)+` && !!document.querySelector('.slide[data-id=s1] img[srcset]')`)
	waitJS(t, b, 20*time.Second, "the third slide", `window.__signage.slideIndex() === 2`)
	var shown []string // the slides shown, each time it changed, with the deck
	for _, s := range eval[[][]any](t, b, `window.__seen`) {
		step := fmt.Sprintf("slide %v of %v", s[1], s[0])
		if len(shown) == 0 || shown[len(shown)-1] != step {
			shown = append(shown, step)
		}
		if s[0] != before && s[1].(float64) == 0 {
			t.Errorf("after the photo arrived the screen went back to the first slide")
		}
	}
	if t.Failed() {
		t.Logf("shown: %v", shown)
	}
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
