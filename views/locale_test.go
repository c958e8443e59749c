package views

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestLocaleFor(t *testing.T) {
	for _, tc := range []struct {
		asked, tag, format string
		texts              *Texts
	}{
		{"nl-BE", "nl-BE", "nl-BE", &dutch},
		{"nl-NL", "nl-NL", "nl", &dutch},
		{"fr-BE", "fr-BE", "fr-BE", &french},
		{"fr-CA", "fr-CA", "fr-CA", &french},
		{"fr-LU", "fr-LU", "fr", &french},
		{"de-DE", "de-DE", "de", &german},
		{"de-CH", "de-CH", "de-CH", &german},
		{"en-US", "en-US", "en", &english},
		{"en-GB", "en-GB", "en-GB", &english},
		{"af", "nl", "nl", &dutch}, // Afrikaans readers read Dutch: the page says it is Dutch
		{"xx", "en", "en", &english},
		{"es-ES", "en", "en", &english},
		{"", "en", "en", &english},
		{"<script>", "en", "en", &english},
	} {
		t.Run(tc.asked, func(t *testing.T) {
			l := LocaleFor(tc.asked)
			if l.Tag != tc.tag || l.Format != tc.format || l.Texts() != tc.texts {
				t.Errorf("LocaleFor(%q) = %q, format %q, texts in %q", tc.asked, l.Tag, l.Format, l.Texts().Pinned)
			}
		})
	}
	var zero Locale
	if zero.Texts() != &english || zero.tag() != "en" || zero.format() != "en" || zero.date(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) != "November 20, 2026" {
		t.Errorf("the zero Locale does not speak English")
	}
}

// TestDatesInTheLocale: dates come from CLDR in the locale's own form.
func TestDatesInTheLocale(t *testing.T) {
	d := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for tag, want := range map[string]string{
		"en-US": "November 20, 2026",
		"en-GB": "20 November 2026",
		"nl-BE": "20 november 2026",
		"fr-BE": "20 novembre 2026",
		"fr-CA": "20 novembre 2026",
		"de-DE": "20. November 2026",
		"xx":    "November 20, 2026",
	} {
		if got := LocaleFor(tag).date(d); got != want {
			t.Errorf("%s: %q, want %q", tag, got, want)
		}
	}
	// The embed's narrow meta line takes the medium form.
	for tag, want := range map[string]string{"en-US": "Nov 20, 2026", "nl-BE": "20 nov. 2026", "fr-BE": "20 nov. 2026", "de-DE": "20.11.2026"} {
		if got := LocaleFor(tag).shortDate(d); got != want {
			t.Errorf("%s, short: %q, want %q", tag, got, want)
		}
	}
	// The day is the one of the zone the time comes in (the server's screens.time_zone),
	// not UTC's: 23:30 UTC on the 20th is the 21st in Brussels.
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC).In(time.FixedZone("CET", 3600))
	if got := LocaleFor("nl-BE").date(late); got != "21 november 2026" {
		t.Errorf("23:30 UTC given in CET: %q, want the 21st", got)
	}
	if got := LocaleFor("en-US").shortDate(late); got != "Nov 21, 2026" {
		t.Errorf("23:30 UTC given in CET, short: %q, want the 21st", got)
	}
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// TestCatalogueComplete: every language has every text, with the placeholders the
// English one has, and says it in its own words.
func TestCatalogueComplete(t *testing.T) {
	en := reflect.ValueOf(english)
	for name, texts := range map[string]Texts{"nl": dutch, "fr": french, "de": german} {
		v := reflect.ValueOf(texts)
		same := 0
		for i := range v.NumField() {
			field, want, got := v.Type().Field(i).Name, en.Field(i).String(), v.Field(i).String()
			if got == "" {
				t.Errorf("%s: %s is missing", name, field)
			}
			if a, b := placeholder.FindAllString(want, -1), placeholder.FindAllString(got, -1); !slices.Equal(a, b) {
				t.Errorf("%s: %s has placeholders %v, English %v", name, field, b, a)
			}
			if got == want {
				same++
			}
		}
		if same > 1 { // "Demo" is Dutch and German too
			t.Errorf("%s: %d texts are the English ones", name, same)
		}
	}
}

// englishFragments are the English texts a page in another language must not show: those
// its catalogue says otherwise, split at their placeholders.
func englishFragments(other *Texts) []string {
	var out []string
	en, o := reflect.ValueOf(english), reflect.ValueOf(*other)
	for i := range en.NumField() {
		if en.Field(i).String() == o.Field(i).String() {
			continue
		}
		for _, part := range placeholder.Split(en.Field(i).String(), -1) {
			if part = strings.TrimSpace(part); len(part) >= 4 {
				out = append(out, part)
			}
		}
	}
	return out
}

// pageTexts lists every text node and every aria-label of a rendered page.
func pageTexts(doc *goquery.Document) []string {
	var out []string
	doc.Find("body *").Each(func(_ int, s *goquery.Selection) {
		if label, ok := s.Attr("aria-label"); ok {
			out = append(out, label)
		}
		s.Contents().Each(func(_ int, n *goquery.Selection) {
			if goquery.NodeName(n) == "#text" {
				if txt := strings.TrimSpace(n.Text()); txt != "" {
					out = append(out, txt)
				}
			}
		})
	})
	return out
}

// TestPagesSpeakTheScreensLanguage renders the screen and the embed, with slides and in
// every state, in Dutch, French and German: none shows an English text of ours, each
// shows its own words and its dates in its own form, and the page says its language.
func TestPagesSpeakTheScreensLanguage(t *testing.T) {
	for _, tc := range []struct {
		tag, date, short string
		words            []string
	}{
		{"nl-BE", "23 november 2026", "23 nov. 2026", []string{"Vastgepind", "Scan om verder te lezen", "Demo", "Laatst bijgewerkt om", "QR-code naar het artikel", "Gebruikerslijst", "voorbeeldnieuws"}},
		{"fr-BE", "23 novembre 2026", "23 nov. 2026", []string{"Épinglé", "Scannez pour lire la suite", "Démo", "Dernière mise à jour à", "Code QR vers l’article", "La liste d’utilisateurs", "actualités fictives"}},
		{"de-DE", "23. November 2026", "23.11.2026", []string{"Angeheftet", "Zum Weiterlesen scannen", "Demo", "Zuletzt aktualisiert um", "QR-Code zum Artikel", "Die Benutzerliste", "Beispielnachrichten"}},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			l := LocaleFor(tc.tag)
			var texts []string
			deck := sampleDeck()
			deck.Locale = l
			doc, _ := render(t, Screen(ScreenPage{Deck: deck, Options: Options{Theme: "dark", Lang: tc.tag}, Demo: true}))
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.tag {
				t.Errorf("<html lang=%q>", got)
			}
			if got := doc.Find("body").AttrOr("data-locale", ""); got != l.Format {
				t.Errorf("data-locale %q, want %q", got, l.Format)
			}
			if got := doc.Find("[data-testid=slide] time").First().Text(); got != tc.date {
				t.Errorf("slide date %q, want %q", got, tc.date)
			}
			texts = append(texts, pageTexts(doc)...)
			doc, _ = render(t, Embed(EmbedPage{Deck: deck, Options: Options{Theme: "dark", Lang: tc.tag}, Demo: true}))
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.tag {
				t.Errorf("embed <html lang=%q>", got)
			}
			if got := doc.Find("[data-testid=headline] time").First().Text(); got != tc.short {
				t.Errorf("embed date %q, want %q", got, tc.short)
			}
			texts = append(texts, pageTexts(doc)...)
			for _, state := range []DeckState{DeckEmpty, DeckUnknown, DeckLoading} {
				d := deck
				d.State, d.Slides, d.Name = state, nil, ""
				doc, _ := render(t, DeckSlides(d))
				texts = append(texts, pageTexts(doc)...)
				doc, _ = render(t, EmbedList(d, 0))
				texts = append(texts, pageTexts(doc)...)
			}
			all := strings.Join(texts, "\n")
			for _, en := range englishFragments(l.Texts()) {
				for _, txt := range texts {
					if strings.Contains(txt, en) {
						t.Errorf("English %q shows in %q", en, txt)
					}
				}
			}
			for _, w := range append(tc.words, l.Texts().EmptyTitle, l.Texts().LoadingTitle, l.Texts().UnknownTitle, l.Texts().EmbedUnknownTitle, l.Texts().News) {
				if !strings.Contains(all, w) {
					t.Errorf("%q is not shown", w)
				}
			}
		})
	}
}

// TestSlideSaysItsOwnLanguage: an untranslated publication on a Dutch screen keeps its
// language on its title and summary (hyphenation and screen readers follow it), while
// our words around it are Dutch.
func TestSlideSaysItsOwnLanguage(t *testing.T) {
	d := sampleDeck()
	d.Locale = LocaleFor("nl-BE")
	d.Slides[0].Lang = "en-US"
	doc, _ := render(t, DeckSlides(d))
	first := doc.Find("[data-testid=slide]").First()
	if first.Find("[data-testid=slide-title]").AttrOr("lang", "") != "en-US" || first.Find("[data-testid=slide-summary]").AttrOr("lang", "") != "en-US" {
		t.Errorf("the English publication does not say so")
	}
	if _, ok := first.Find("[data-testid=slide-pinned]").Attr("lang"); ok || first.Find("[data-testid=slide-pinned]").Text() != "Vastgepind" {
		t.Errorf("the badge is not in the page's language")
	}
	if _, ok := doc.Find("[data-testid=slide]").Eq(1).Find("[data-testid=slide-title]").Attr("lang"); ok {
		t.Errorf("a publication of unknown language claims one (lang=\"\" would say it is unknown)")
	}
}
