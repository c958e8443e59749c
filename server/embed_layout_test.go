package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
)

// embedFitJS reports what does not fit the frame: a card shown only in part, meta on more
// than one line, a title past two lines, anything wider than the frame.
const embedFitJS = `(() => {
  const out = [];
  const H = innerHeight, W = innerWidth;
  if (document.documentElement.scrollWidth > W) out.push('wider than the frame: ' + document.documentElement.scrollWidth);
  let whole = 0;
  for (const li of document.querySelectorAll('.headline')) {
    if (li.hidden) continue;
    const r = li.getBoundingClientRect();
    const shown = getComputedStyle(li).visibility === 'visible';
    if (shown && (r.bottom > H + 0.5 || r.right > W + 0.5)) out.push('card "' + li.textContent.slice(0, 30) + '" is cut by the frame');
    if (!shown) continue;
    whole++;
    const meta = li.querySelector('.headline-meta');
    const lh = parseFloat(getComputedStyle(meta).lineHeight);
    if (meta.getBoundingClientRect().height > 1.6 * lh) out.push('meta wraps: ' + meta.textContent);
    const time = meta.querySelector('time');
    if (time && time.scrollWidth > time.clientWidth + 1) out.push('date cut: ' + time.textContent);
    const title = li.querySelector('.headline-title');
    if (title.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(title).lineHeight) + 1) out.push('title past two lines');
  }
  for (const el of document.querySelectorAll('.embed-state, .embed-demo')) {
    const r = el.getBoundingClientRect();
    if (r.right > W + 0.5 || r.bottom > H + 0.5) out.push(el.className + ' does not fit');
  }
  return JSON.stringify({ problems: out, whole: whole, text: document.body.innerText });
})()`

// TestBrowserEmbedFits: the widget at 300×250 and 400×600 shows whole cards with their
// meta on one line, marks pinned items, says "demo" in demo mode, and shows intranet
// readers a plain sentence (not a raw id) for a userlist Spencer does not know.
func TestBrowserEmbedFits(t *testing.T) {
	e := newLayoutEnv(t)
	const unknown = "0f0f0f0f-0000-4000-8000-00000000beef"
	for _, vp := range []struct{ w, h, minWhole int }{{300, 250, 3}, {400, 600, 5}} {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			b := newBrowser(t, vp.w, vp.h)
			for _, theme := range []string{"dark", "light"} {
				b.navigate(t, e.base+"/embed/"+layoutList+"?theme="+theme)
				waitJS(t, b, 10*time.Second, "the widget", `!!window.__signageEmbed && document.querySelectorAll('.headline').length === 5`)
				r := embedFit(t, b)
				for _, p := range r.Problems {
					t.Errorf("%s: %s", theme, p)
				}
				if dir := os.Getenv("SIGNAGE_LAYOUT_SHOTS"); dir != "" {
					b.screenshotTo(t, filepath.Join(dir, fmt.Sprintf("embed-%dx%d-%s.png", vp.w, vp.h, theme)))
				}
				if r.Whole < vp.minWhole {
					t.Errorf("%s: %d whole cards, want at least %d", theme, r.Whole, vp.minWhole)
				}
				if !eval[bool](t, b, `!!document.querySelector('.headline[data-id=split] [data-testid=headline-pinned]')`) {
					t.Errorf("%s: the pinned item is not marked", theme)
				}
				if !eval[bool](t, b, `!!document.querySelector('[data-testid=demo-badge]')`) {
					t.Errorf("%s: no demo badge in demo mode", theme)
				}
			}
			// German, the longest of our languages, in the same room: a badge and a date
			// longer than the English ones.
			b.navigate(t, e.base+"/embed/"+layoutList+"?lang=de-DE")
			waitJS(t, b, 10*time.Second, "the German widget", `!!window.__signageEmbed && document.querySelectorAll('.headline').length === 5`)
			r := embedFit(t, b)
			for _, p := range r.Problems {
				t.Errorf("de-DE: %s", p)
			}
			if r.Whole < vp.minWhole {
				t.Errorf("de-DE: %d whole cards, want at least %d", r.Whole, vp.minWhole)
			}
			for _, w := range []string{"Angeheftet", "28.11.2026", "Beispielnachrichten"} {
				if !strings.Contains(strings.ReplaceAll(r.Text, "ANGEHEFTET", "Angeheftet"), w) {
					t.Errorf("de-DE: %q is not shown in %q", w, r.Text)
				}
			}
			if eval[bool](t, b, `(() => { const d = document.querySelector('.embed-demo'); return d.scrollWidth > d.clientWidth })()`) {
				t.Errorf("de-DE: the demo note is cut short")
			}
			if dir := os.Getenv("SIGNAGE_LAYOUT_SHOTS"); dir != "" {
				b.screenshotTo(t, filepath.Join(dir, fmt.Sprintf("embed-%dx%d-de-DE.png", vp.w, vp.h)))
			}
			b.navigate(t, e.base+"/embed/"+unknown)
			waitJS(t, b, 10*time.Second, "the unknown state", `!!document.querySelector('[data-testid=state-unknown]')`)
			r = embedFit(t, b)
			for _, p := range r.Problems {
				t.Errorf("unknown: %s", p)
			}
			if strings.Contains(r.Text, unknown) || strings.Contains(r.Text, unknown[:8]) {
				t.Errorf("the unknown state shows intranet readers the raw id: %q", r.Text)
			}
			for _, msg := range b.consoleErrors() {
				t.Errorf("browser error: %s", msg)
			}
		})
	}
}

type embedFitReport struct {
	Problems []string `json:"problems"`
	Whole    int      `json:"whole"`
	Text     string   `json:"text"`
}

func embedFit(t *testing.T, b *browser) embedFitReport {
	t.Helper()
	var r embedFitReport
	if err := json.Unmarshal([]byte(eval[string](t, b, embedFitJS)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBrowserEmbedInHostPage puts the start page's own snippet, twice, into an intranet
// page on another origin: each frame takes the height its own widget reports (so the
// one with ?limit=2 shrinks below the snippet's initial 420 px, while the other keeps the
// height of its five cards), and the host page's background shows through the widget.
func TestBrowserEmbedInHostPage(t *testing.T) {
	var page atomic.Value
	page.Store("")
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page.Load().(string))
	}))
	defer host.Close()
	e := newLayoutEnv(t, func(c *server.Config) { c.Server.EmbedOrigins = []string{host.URL} })

	_, index := e.get("/")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(index))
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	doc.Find("[data-testid=userlist]").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("data-id", "") == layoutList {
			snippet = s.Find("[data-testid=embed-snippet]").Text()
		}
	})
	if !strings.Contains(snippet, `height:420px`) || !strings.Contains(snippet, "/embed/"+layoutList+`"`) {
		t.Fatalf("snippet %q", snippet)
	}
	iframe, listener, _ := strings.Cut(snippet, "\n")
	short := strings.Replace(iframe, "/embed/"+layoutList+`"`, "/embed/"+layoutList+`?limit=2" id="short"`, 1)
	long := strings.Replace(iframe, "/embed/"+layoutList+`"`, "/embed/"+layoutList+`?theme=light" id="long"`, 1)
	page.Store(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Intranet</title></head>` +
		`<body style="margin:0;background:#ff00ff"><div style="width:400px">` + short + `<p>Between the widgets.</p>` + long + `</div>` + listener + `</body></html>`)

	b := newBrowser(t, 500, 1400)
	b.navigate(t, host.URL+"/")
	height := func(id string) float64 {
		return eval[float64](t, b, `document.getElementById('`+id+`').getBoundingClientRect().height`)
	}
	waitJS(t, b, 15*time.Second, "both frames sized by their widgets", `document.getElementById('short').style.height !== '420px' && document.getElementById('long').style.height !== '420px'`)
	hs, hl := height("short"), height("long")
	if hs >= 420 || hs < 100 {
		t.Errorf("the frame with ?limit=2 is %.0f px high: it should shrink to its two cards", hs)
	}
	if hl < hs+150 {
		t.Errorf("the frame with five items is %.0f px high, the one with two %.0f px: each frame must take its own widget's height", hl, hs)
	}
	t.Logf("frame heights: limit=2 %.0f px, all items %.0f px", hs, hl)

	if dir := os.Getenv("SIGNAGE_LAYOUT_SHOTS"); dir != "" {
		b.screenshotTo(t, filepath.Join(dir, "embed-host.png"))
	}
	// The host page's magenta shows through the widget's margins: nothing paints a
	// background behind the cards.
	shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"short", "long"} {
		x := eval[float64](t, b, `document.getElementById('`+id+`').getBoundingClientRect().left`) + 1
		y := eval[float64](t, b, `document.getElementById('`+id+`').getBoundingClientRect().bottom`) - 2
		r, g, bl, _ := img.At(int(x), int(y)).RGBA()
		if r>>8 < 240 || g>>8 > 15 || bl>>8 < 240 {
			t.Errorf("%s: the widget paints over the host page's background: rgb(%d,%d,%d) at its bottom left", id, r>>8, g>>8, bl>>8)
		}
	}
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}
