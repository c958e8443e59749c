package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserFrozenPageReloadsItself: a screen or an embed whose script does not run (an
// engine too old for it, a script that failed) reloads itself every few minutes rather
// than show old news forever; one whose script runs does not. The pages go through a
// proxy that counts them and shortens their 300 s to 2 s.
func TestBrowserFrozenPageReloadsItself(t *testing.T) {
	e := newLayoutEnv(t) // with photos
	_, html := e.get("/screens/" + layoutList)
	if !strings.Contains(html, `<meta http-equiv="refresh" content="300">`) {
		t.Fatalf("the screen page has no refresh of 300 s")
	}
	var pages atomic.Int64
	server := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target, _ := url.Parse(e.base) // read each time: the server restarts below
			r.SetURL(target)
		},
		ModifyResponse: func(r *http.Response) error {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				return nil
			}
			pages.Add(1)
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			r.Body.Close()
			b = bytes.Replace(b, []byte(`http-equiv="refresh" content="300"`), []byte(`http-equiv="refresh" content="2"`), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
			r.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	}
	// The photos come slowly, through the proxy too: the embed's lazy thumbnails are still
	// loading when the page has loaded. The server serves them from /media/, once it
	// keeps them.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/media/") {
			time.Sleep(time.Second)
		}
		server.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	waitFor(t, 30*time.Second, "the photos kept", func() bool {
		_, html := e.get("/embed/" + layoutList)
		return strings.Count(html, `src="/media/`) >= 3
	})

	for _, page := range []string{"/screens/" + layoutList + "?interval=600", "/embed/" + layoutList} {
		t.Run(page[1:strings.IndexByte(page[1:], '/')+1]+"/running", func(t *testing.T) {
			b := newBrowser(t, 1280, 720)
			pages.Store(0)
			b.navigate(t, proxy.URL+page)
			waitJS(t, b, 15*time.Second, "the script", `!!(window.__signage || window.__signageEmbed) && document.readyState === 'complete'`)
			eval[bool](t, b, `(window.__stayed = true)`)
			time.Sleep(6 * time.Second) // three times the shortened refresh: nothing to wait for but its absence
			if !eval[bool](t, b, `window.__stayed === true`) || pages.Load() != 1 {
				t.Errorf("the page whose script runs reloaded (%d pages served)", pages.Load())
			}
			if eval[bool](t, b, `!!document.querySelector('meta[http-equiv=refresh]')`) {
				t.Errorf("the refresh is still in the page")
			}
			// Stopping the page's loading, which cancels the refresh, must not cost it an
			// image (the embed's thumbnails load lazily, after the page's load).
			waitJS(t, b, 10*time.Second, "every image", `document.images.length >= 3 && Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)`)
		})
		t.Run(page[1:strings.IndexByte(page[1:], '/')+1]+"/without-script", func(t *testing.T) {
			b := newBrowser(t, 1280, 720)
			if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				t.Fatal(err)
			}
			pages.Store(0)
			b.navigate(t, proxy.URL+page)
			waitFor(t, 15*time.Second, "the page to reload itself", func() bool { return pages.Load() >= 2 })
		})
	}
}
