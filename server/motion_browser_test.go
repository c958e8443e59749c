package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// animationsJS lists what animates on the page now: CSS animations by name, transitions by
// property.
const animationsJS = `JSON.stringify(document.getAnimations().map((a) => a.animationName || a.transitionProperty))`

// TestBrowserScreenHoldsStillBetweenSlides: once a slide has come in, nothing on the
// screen animates until the next one (a TV that renders in software spends its CPU on
// every frame an animation asks for); the progress bar still fills, a step at a time.
// With prefers-reduced-motion, the change of slide is a cross-fade and nothing else moves:
// no photo settling, no progress bar.
func TestBrowserScreenHoldsStillBetweenSlides(t *testing.T) {
	e := newLayoutEnv(t)
	for _, reduced := range []bool{false, true} {
		t.Run(fmt.Sprintf("reduced-motion=%v", reduced), func(t *testing.T) {
			b := newBrowser(t, 1280, 720)
			if reduced {
				if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			b.navigate(t, e.base+"/screens/"+layoutList+"?interval=600")
			waitJS(t, b, 15*time.Second, "the page", `!!window.__signage && window.__signage.slideCount() > 2`)
			for _, i := range []int{1, 0} { // to a photo-led slide and back to one beside its photo
				if !eval[bool](t, b, fmt.Sprintf(`!!document.querySelectorAll('#deck > .slide')[%d].querySelector('img')`, i)) {
					t.Fatalf("slide %d has no photo", i)
				}
				during, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.__signage.show(%d).then(() => %s)`, i, animationsJS), chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				if reduced {
					// Only the slides' and their texts' fades may run: nothing that moves.
					for _, name := range []string{"transform", "drift", "progress", "spin"} {
						if strings.Contains(during, name) {
							t.Errorf("slide %d comes in with %s under reduced motion: %s", i, name, during)
						}
					}
				}
				waitJS(t, b, 5*time.Second, "the change to be over", `document.getAnimations().length === 0`)
				time.Sleep(1500 * time.Millisecond) // and it stays over
				if got := eval[string](t, b, animationsJS); got != "[]" {
					t.Errorf("on slide %d, between slide changes, still animating: %s", i, got)
				}
				bar := `getComputedStyle(document.getElementById('progress')).transform`
				first := eval[string](t, b, bar)
				time.Sleep(2200 * time.Millisecond)
				second := eval[string](t, b, bar)
				visible := eval[bool](t, b, `getComputedStyle(document.querySelector('.progress')).visibility === 'visible'`)
				switch {
				case !reduced && (first == second || !visible):
					t.Errorf("the progress bar does not fill: %s, then %s", first, second)
				case reduced && visible:
					t.Errorf("the progress bar shows under reduced motion")
				}
			}
			if reduced {
				if got := eval[string](t, b, `getComputedStyle(document.querySelector('.slide.is-active img')).transform`); got != "none" {
					t.Errorf("the photo is transformed under reduced motion: %s", got)
				}
			}
			for _, msg := range b.consoleErrors() {
				t.Errorf("browser error: %s", msg)
			}
		})
	}
}
