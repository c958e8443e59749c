package server

import (
	"encoding/json"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// jsonFeed is a JSON Feed 1.1 document (https://jsonfeed.org/version/1.1) with the
// product's `_signage` extension.
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
	Userlist      string             `json:"userlist"`
	FetchedAt     *time.Time         `json:"fetched_at"`
	Stale         bool               `json:"stale"`
	Version       string             `json:"version"`
	Announcements []feedAnnouncement `json:"announcements"`
}

// feedAnnouncement is an active announcement as the JSON feed carries it.
type feedAnnouncement struct {
	ID        string    `json:"id"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text"`
	Severity  string    `json:"severity"`
	ExpiresAt time.Time `json:"expires_at"`
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

func newJSONFeed(c *Edition, stale bool, l feedLinks, ann []Announcement) jsonFeed {
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       c.Title(),
		Description: "News from Spencer, for screens and intranet pages",
		Language:    c.Locale,
		Items:       make([]jsonFeedItem, 0, len(c.Items)),
		Signage:     signageExt{Userlist: c.Userlist, Stale: stale, Version: c.Version, Announcements: []feedAnnouncement{}},
	}
	for _, a := range ann {
		f.Signage.Announcements = append(f.Signage.Announcements, feedAnnouncement{ID: a.ID, Title: a.Title, Text: a.Text, Severity: a.Severity, ExpiresAt: a.ExpiresAt})
	}
	if l.self != "" {
		f.HomePageURL, f.FeedURL = l.home, l.self
	}
	if !c.FetchedAt.IsZero() {
		t := c.FetchedAt.UTC()
		f.Signage.FetchedAt = &t
	}
	for _, it := range c.Items {
		f.Items = append(f.Items, newJSONFeedItem(it))
	}
	return f
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
