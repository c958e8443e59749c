package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
)

func langEdition(t *testing.T) *Edition {
	t.Helper()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	items := []spencerclient.Item{
		{ID: "a", Title: "Menu of the week", Summary: "Soup.", Locale: "en-US", Published: now, Pinned: true,
			Translations: map[string]spencerclient.Text{"nl-BE": {Title: "Menu van de week", Summary: "Soep."}}},
		{ID: "b", Title: "Fire drill", Summary: "At 11:00.", Published: now},
	}
	es := &editions{log: slog.New(slog.DiscardHandler)}
	e := es.of(news.NewContent("u", "Canteen", "en-US", items, news.StateItems, now, now), func(string) bool { return true })
	if e == nil {
		t.Fatal("no edition")
	}
	return e
}

// TestDeckPerLanguage: a version is rendered once per way of speaking, and every screen
// that speaks alike shares its bytes.
func TestDeckPerLanguage(t *testing.T) {
	e := langEdition(t)
	def := e.forLang("en-US")
	if def != e.deck.def || e.forLang("") != def {
		t.Fatalf("the configured locale is not the default rendering")
	}
	if e.forLang("xx") != def || e.forLang("en") != def || e.forLang("es-ES") != def {
		t.Errorf("a locale we do not speak, nor any translation is in, does not share the English rendering")
	}
	nlBE, nlNL, de := e.forLang("nl-BE"), e.forLang("nl-NL"), e.forLang("de-DE")
	for name, ld := range map[string]*langDeck{"nl-BE": nlBE, "nl-NL": nlNL, "de-DE": de} {
		if ld == def {
			t.Errorf("%s gets the English deck", name)
		}
	}
	if nlBE == nlNL {
		t.Errorf("nl-NL shares nl-BE's deck, which carries a translation nl-NL does not")
	}
	if e.forLang("nl") != nlNL || e.forLang("de-AT") == de || e.forLang("de-LU") != de {
		t.Errorf("locales that render alike do not share a deck")
	}
	if e.forLang("nl-BE") != nlBE || e.DeckMessage("nl-BE") != nlBE.deckMsg {
		t.Errorf("a second screen in nl-BE does not get the same bytes")
	}
	for _, tc := range []struct {
		ld          *langDeck
		words       []string
		date, short string
	}{
		{def, []string{"Pinned", "Menu of the week"}, "November 20, 2026", "Nov 20, 2026"},
		{nlBE, []string{"Vastgepind", `lang="nl-BE">Menu van de week`}, "20 november 2026", "20 nov. 2026"},
		{nlNL, []string{"Vastgepind", `lang="en-US">Menu of the week`}, "20 november 2026", "20 nov. 2026"},
		{de, []string{"Angeheftet", "Menu of the week"}, "20. November 2026", "20.11.2026"},
	} {
		for name, html := range map[string][]byte{"deck": tc.ld.deckHTML, "embed": tc.ld.embedHTML} {
			date := tc.date
			if name == "embed" {
				date = tc.short
			}
			for _, w := range append(tc.words, date) {
				if !strings.Contains(string(html), w) {
					t.Errorf("%s lacks %q: %s", name, w, html)
				}
			}
		}
	}
}

// TestDeckLanguagesBounded: however many locales screens ask for, a version keeps a
// bounded number of renderings, and locales that render alike do not use them up.
func TestDeckLanguagesBounded(t *testing.T) {
	e := langEdition(t)
	for i := range 500 {
		e.forLang(fmt.Sprintf("q%c%c", 'a'+i%26, 'a'+i/26%26))
	}
	if de := e.forLang("de-DE"); de == e.deck.def {
		t.Errorf("odd locales used up the renderings: German gets the default")
	}
	for _, l := range []string{"fr", "fr-BE", "fr-CA", "fr-CH", "de-AT", "de-CH", "en-GB", "nl", "nl-BE"} {
		e.forLang(l)
	}
	if n := len(e.deck.rendered); n > maxLangs {
		t.Errorf("%d renderings of one version", n)
	}
	if n := len(e.deck.byLocale); n > maxLocales {
		t.Errorf("%d locales remembered", n)
	}
	if e.forLang("zz-ZZ-ZZZZ") != e.deck.def || e.forLang(`"><script>`) != e.deck.def {
		t.Errorf("past the limits, or malformed, a screen does not get the configured locale")
	}
}
