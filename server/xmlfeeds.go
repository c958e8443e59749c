package server

import (
	"encoding/xml"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// RSS 2.0 and Atom (RFC 4287) are written with encoding/xml rather than a feed library:
// the one we used could not express what validators and readers need, namely RSS's
// dc:creator (RSS <author> must be an e-mail address), its atom:link rel="self", and
// Atom's self link.

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Content string     `xml:"xmlns:content,attr"`
	DC      string     `xml:"xmlns:dc,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language,omitempty"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Generator     string    `xml:"generator"`
	Self          *atomLink `xml:"atom:link,omitempty"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string        `xml:"title,omitempty"`
	Link        string        `xml:"link,omitempty"`
	Description string        `xml:"description,omitempty"`
	Content     *cdata        `xml:"content:encoded,omitempty"`
	Creator     string        `xml:"dc:creator,omitempty"`
	GUID        rssGUID       `xml:"guid"`
	PubDate     string        `xml:"pubDate,omitempty"`
	Enclosure   *rssEnclosure `xml:"enclosure,omitempty"`
}

type rssGUID struct {
	ID          string `xml:",chardata"`
	IsPermaLink string `xml:"isPermaLink,attr"`
}

type rssEnclosure struct {
	URL    string `xml:"url,attr"`
	Length string `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomDoc struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"xml:lang,attr,omitempty"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   *atomPerson `xml:"author,omitempty"`
	Gen      string      `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     atomText    `xml:"title"`
	Updated   string      `xml:"updated"`
	Published string      `xml:"published,omitempty"`
	Links     []atomLink  `xml:"link"`
	Author    *atomPerson `xml:"author,omitempty"`
	Summary   *atomText   `xml:"summary,omitempty"`
	Content   *atomText   `xml:"content,omitempty"`
}

const generator = "spencer-signage"

// feedLinks are the absolute addresses a feed names.
type feedLinks struct {
	home string // the screen of the userlist
	self string // this feed
	ids  feedIDs
}

func encodeRSS(c *Edition, l feedLinks) ([]byte, error) {
	ch := rssChannel{
		Title:       c.Title(),
		Link:        l.home,
		Description: "News from Spencer for " + c.Title(),
		Language:    c.Locale,
		Generator:   generator,
	}
	if !c.FetchedAt.IsZero() {
		ch.LastBuildDate = c.FetchedAt.UTC().Format(time.RFC1123Z)
	}
	if l.self != "" {
		ch.Self = &atomLink{Href: l.self, Rel: "self", Type: "application/rss+xml"}
	}
	for _, it := range c.Items {
		ri := rssItem{
			Title:       it.Title,
			Link:        itemLink(it, l.home),
			Description: it.Excerpt(500),
			Creator:     it.Author,
			// A publication id is not a URL: say so, or readers resolve it against the feed's address.
			GUID: rssGUID{ID: it.ID, IsPermaLink: "false"},
		}
		if it.BodyHTML != "" {
			ri.Content = &cdata{Text: it.BodyHTML}
		}
		if !it.Published.IsZero() {
			ri.PubDate = it.Published.UTC().Format(time.RFC1123Z)
		}
		if it.ImageURL != "" {
			ri.Enclosure = &rssEnclosure{URL: it.ImageURL, Length: "0", Type: imageType(it.ImageURL)}
		}
		ch.Items = append(ch.Items, ri)
	}
	doc := rssDoc{Version: "2.0", Content: "http://purl.org/rss/1.0/modules/content/",
		DC: "http://purl.org/dc/elements/1.1/", Atom: "http://www.w3.org/2005/Atom", Channel: ch}
	return marshalXML(doc)
}

func encodeAtom(c *Edition, l feedLinks) ([]byte, error) {
	updated := c.FetchedAt
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	doc := atomDoc{
		Lang:     c.Locale,
		ID:       l.ids.feed(c.Userlist),
		Title:    c.Title(),
		Subtitle: "News from Spencer for " + c.Title(),
		Updated:  updated.UTC().Format(time.RFC3339),
		Links:    []atomLink{{Href: l.home, Rel: "alternate", Type: "text/html"}},
		Gen:      generator,
	}
	if l.self != "" {
		doc.Links = append(doc.Links, atomLink{Href: l.self, Rel: "self", Type: "application/atom+xml"})
	}
	for _, it := range c.Items {
		e := atomEntry{
			ID:      l.ids.item(c.Userlist, it.ID),
			Title:   atomText{Type: "text", Text: it.Title},
			Updated: updated.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Href: itemLink(it, l.home), Rel: "alternate"}},
		}
		if !it.Published.IsZero() {
			e.Published = it.Published.UTC().Format(time.RFC3339)
			e.Updated = e.Published
		}
		if it.Author != "" {
			e.Author = &atomPerson{Name: it.Author}
		} else {
			// RFC 4287, 4.1.1: a feed names an author unless every entry does.
			doc.Author = &atomPerson{Name: c.Title()}
		}
		if s := it.Excerpt(500); s != "" {
			e.Summary = &atomText{Type: "text", Text: s}
		}
		if it.BodyHTML != "" {
			e.Content = &atomText{Type: "html", Text: it.BodyHTML}
		}
		doc.Entries = append(doc.Entries, e)
	}
	return marshalXML(doc)
}

// itemLink is where an item leads: its article, else the userlist's screen.
func itemLink(it spencerclient.Item, home string) string {
	if it.Link != "" {
		return it.Link
	}
	return home
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
