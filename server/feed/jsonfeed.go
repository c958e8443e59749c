package feed

import (
	"encoding/json"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// jsonFeed is a JSON Feed 1.1 document with the product's `_signage` extension.
type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url,omitempty"`
	FeedURL     string         `json:"feed_url,omitempty"`
	Description string         `json:"description,omitempty"`
	Language    string         `json:"language,omitempty"`
	Items       []jsonFeedItem `json:"items"`
	Signage     signageExt     `json:"_signage"`
}

type signageExt struct {
	Userlist      string         `json:"userlist"`
	FetchedAt     *time.Time     `json:"fetched_at"`
	Stale         bool           `json:"stale"`
	Version       string         `json:"version"`
	Announcements []Announcement `json:"announcements"`
}

type jsonFeedItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url,omitempty"`
	Title         string           `json:"title,omitempty"`
	ContentHTML   string           `json:"content_html,omitempty"`
	ContentText   string           `json:"content_text,omitempty"`
	Summary       string           `json:"summary,omitempty"`
	Image         string           `json:"image,omitempty"`
	DatePublished *time.Time       `json:"date_published,omitempty"`
	Authors       []jsonFeedAuthor `json:"authors,omitempty"`
	Language      string           `json:"language,omitempty"`
	Spencer       json.RawMessage  `json:"_spencer,omitempty"`
}

type jsonFeedAuthor struct {
	Name string `json:"name"`
}

func encodeJSON(f Feed) ([]byte, error) {
	doc := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       f.Title,
		Description: "News from Spencer, for screens and intranet pages",
		Language:    f.Locale,
		Items:       make([]jsonFeedItem, 0, len(f.Items)),
		Signage:     signageExt{Userlist: f.Userlist, Stale: f.Stale, Version: f.Version, Announcements: []Announcement{}},
	}
	doc.Signage.Announcements = append(doc.Signage.Announcements, f.Announcements...)
	if f.Self != "" {
		doc.HomePageURL, doc.FeedURL = f.Home, f.Self
	}
	if !f.FetchedAt.IsZero() {
		t := f.FetchedAt.UTC()
		doc.Signage.FetchedAt = &t
	}
	for _, it := range f.Items {
		doc.Items = append(doc.Items, newJSONFeedItem(it))
	}
	return json.Marshal(doc)
}

func newJSONFeedItem(it spencerclient.Item) jsonFeedItem {
	ji := jsonFeedItem{
		ID:          it.ID,
		URL:         it.Link,
		Title:       it.Title,
		ContentHTML: it.BodyHTML,
		Summary:     it.Summary,
		Image:       it.ImageURL,
		Language:    it.Locale,
	}
	if ji.ContentHTML == "" {
		// JSON Feed 1.1 asks every item for content_html or content_text.
		ji.ContentText = it.Summary
		if ji.ContentText == "" {
			ji.ContentText = it.Title
		}
	}
	if json.Valid(it.Raw) {
		ji.Spencer = it.Raw
	}
	if !it.Published.IsZero() {
		t := it.Published.UTC()
		ji.DatePublished = &t
	}
	if it.Author != "" {
		ji.Authors = []jsonFeedAuthor{{Name: it.Author}}
	}
	return ji
}
