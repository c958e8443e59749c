package feed

import (
	"encoding/xml"
	"time"
)

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

func encodeAtom(f Feed) ([]byte, error) {
	updated := f.FetchedAt
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	doc := atomDoc{
		Lang:     f.Locale,
		ID:       f.IDs.Feed(f.Userlist),
		Title:    f.Title,
		Subtitle: "News from Spencer for " + f.Title,
		Updated:  updated.UTC().Format(time.RFC3339),
		Links:    []atomLink{{Href: f.Home, Rel: "alternate", Type: "text/html"}},
		Gen:      generator,
	}
	if f.Self != "" {
		doc.Links = append(doc.Links, atomLink{Href: f.Self, Rel: "self", Type: "application/atom+xml"})
	}
	for _, it := range f.Items {
		e := atomEntry{
			ID:      f.IDs.Item(f.Userlist, it.ID),
			Title:   atomText{Type: "text", Text: it.Title},
			Updated: updated.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Href: itemLink(it, f.Home), Rel: "alternate"}},
		}
		if !it.Published.IsZero() {
			e.Published = it.Published.UTC().Format(time.RFC3339)
			e.Updated = e.Published
		}
		if it.Author != "" {
			e.Author = &atomPerson{Name: it.Author}
		} else {
			// RFC 4287, 4.1.1: a feed names an author unless every entry does.
			doc.Author = &atomPerson{Name: f.Title}
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
