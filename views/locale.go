package views

import (
	"strings"
	"time"

	"github.com/go-playground/locales"
	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/de_AT"
	"github.com/go-playground/locales/de_CH"
	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/en_GB"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/fr_BE"
	"github.com/go-playground/locales/fr_CA"
	"github.com/go-playground/locales/fr_CH"
	"github.com/go-playground/locales/nl"
	"github.com/go-playground/locales/nl_BE"
	"golang.org/x/text/language"
)

// Locale is how a screen or an embed speaks: the language of the texts the pages add to
// the news (from the catalogue) and the CLDR formats of its dates. The zero Locale speaks
// English.
type Locale struct {
	// Tag is the page's language for its lang attribute: the locale asked for when we
	// speak its language (nl-BE stays nl-BE), else "en", the language we fall back to.
	Tag string
	// Format is the CLDR locale the dates are written in, as a BCP 47 tag: the scripts
	// hand it to the browser's Intl, so that what they write matches what the server did.
	Format string

	texts *Texts
	cldr  locales.Translator
}

// formats are the CLDR locales we write dates in, each with the catalogue of its
// language. Regional variants are here where their dates differ from the language's
// (20 November 2026 in Britain, November 20, 2026 in the United States); the first is
// what a locale we do not speak gets.
var formats = []struct {
	tag   language.Tag
	texts *Texts
	cldr  locales.Translator
}{
	{language.English, &english, en.New()},
	{language.BritishEnglish, &english, en_GB.New()},
	{language.Dutch, &dutch, nl.New()},
	{language.MustParse("nl-BE"), &dutch, nl_BE.New()},
	{language.French, &french, fr.New()},
	{language.MustParse("fr-BE"), &french, fr_BE.New()},
	{language.CanadianFrench, &french, fr_CA.New()},
	{language.MustParse("fr-CH"), &french, fr_CH.New()},
	{language.German, &german, de.New()},
	{language.MustParse("de-AT"), &german, de_AT.New()},
	{language.MustParse("de-CH"), &german, de_CH.New()},
}

// matcher finds, for any locale, the closest of the formats: golang.org/x/text knows that
// nl-BE is Dutch, that en-AU writes dates as the British do, and that Afrikaans readers
// read Dutch.
var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(formats))
	for i, f := range formats {
		tags[i] = f.tag
	}
	return language.NewMatcher(tags)
}()

// LocaleFor is the Locale of a screen asked to speak tag (a BCP 47 tag such as "nl-BE";
// "" or a locale we do not speak gets English).
func LocaleFor(tag string) Locale {
	want, err := language.Parse(tag)
	if err != nil {
		return englishLocale()
	}
	_, i, conf := matcher.Match(want)
	if conf == language.No {
		return englishLocale()
	}
	f := formats[i]
	l := Locale{Tag: want.String(), Format: f.tag.String(), texts: f.texts, cldr: f.cldr}
	// Afrikaans readers get Dutch: the page then says it is in Dutch.
	if wb, _ := want.Base(); wb != baseOf(f.tag) {
		l.Tag = baseOf(f.tag).String()
	}
	return l
}

func baseOf(t language.Tag) language.Base {
	b, _ := t.Base()
	return b
}

func englishLocale() Locale {
	f := formats[0]
	return Locale{Tag: f.tag.String(), Format: f.tag.String(), texts: f.texts, cldr: f.cldr}
}

// Texts is the catalogue of the locale's language.
func (l Locale) Texts() *Texts {
	if l.texts == nil {
		return &english
	}
	return l.texts
}

// tag is the page's lang attribute.
func (l Locale) tag() string {
	if l.Tag == "" {
		return "en"
	}
	return l.Tag
}

// format is the CLDR locale of the scripts' Intl.
func (l Locale) format() string {
	if l.Format == "" {
		return "en"
	}
	return l.Format
}

// date is the day of t as the locale writes it in full: "20 november 2026" in Dutch, "20.
// November 2026" in German. The day is the one of t's location: the server hands its
// times in screens.time_zone, so every screen dates a publication alike, whatever its
// own zone.
func (l Locale) date(t time.Time) string { return l.translator().FmtDateLong(t) }

// shortDate is the day of t in the locale's medium form, for the embed's narrow meta
// line: "Nov 20, 2026", "20.11.2026".
func (l Locale) shortDate(t time.Time) string { return l.translator().FmtDateMedium(t) }

func (l Locale) translator() locales.Translator {
	if l.cldr == nil {
		return formats[0].cldr
	}
	return l.cldr
}

// fill puts values in for the placeholders of a text: fill("{name} is here", "name",
// "Lobby").
func fill(text string, kv ...string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		text = strings.ReplaceAll(text, "{"+kv[i]+"}", kv[i+1])
	}
	return text
}

// around splits a text at its one placeholder {name}, for an element (a code, a time) to
// stand between the two halves.
func around(text, name string) (before, after string) {
	before, after, _ = strings.Cut(text, "{"+name+"}")
	return before, after
}
