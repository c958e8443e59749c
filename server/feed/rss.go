package feed

import (
	"encoding/xml"
	"mime"
	"net/url"
	"path"
	"time"
)

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

func encodeRSS(f Feed) ([]byte, error) {
	ch := rssChannel{
		Title:       f.Title,
		Link:        f.Home,
		Description: "News from Spencer for " + f.Title,
		Language:    f.Locale,
		Generator:   generator,
	}
	if !f.FetchedAt.IsZero() {
		ch.LastBuildDate = f.FetchedAt.UTC().Format(time.RFC1123Z)
	}
	if f.Self != "" {
		ch.Self = &atomLink{Href: f.Self, Rel: "self", Type: "application/rss+xml"}
	}
	for _, it := range f.Items {
		ri := rssItem{
			Title:       it.Title,
			Link:        itemLink(it, f.Home),
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

// imageType guesses an enclosure's media type from its URL; RSS requires one.
func imageType(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		if t := mime.TypeByExtension(path.Ext(parsed.Path)); t != "" {
			return t
		}
	}
	return "image/jpeg"
}
