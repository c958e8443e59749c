package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"sync"

	"github.com/spencer-signage/signage/server/feed"
)

// encodedFeed is a feed encoded once, raw and gzip, each with its own strong ETag.
type encodedFeed struct {
	contentType string
	body        []byte
	etag        string
	gz          []byte
	gzETag      string

	// the same, as header values, so serving them allocates nothing
	contentTypeHeader, etagHeader, gzETagHeader, lengthHeader, gzLengthHeader []string

	announcements int64 // the version of the announcements a JSON feed carries
}

// feedAnnouncements are the announcements a JSON feed carries, and their version.
type feedAnnouncements struct {
	list    []Announcement
	version int64
}

// feedCache keeps the encoded feeds of one Content per base URL. With public_url set there
// is one base; without it the base comes from the request's host, so the number kept is
// bounded and any beyond it are encoded per request.
type feedCache struct {
	entries sync.Map // feedKey -> *encodedFeed; read without a lock on every request
	mu      sync.Mutex
	n       int
}

// feedKey names an encoding: the kind, and where its links point (the request's scheme
// and host, or public_url when that is set, in which case host is "").
type feedKey struct {
	kind  feed.Kind
	https bool
	host  string
}

const maxFeedBases = 8

func newFeedCache() *feedCache { return &feedCache{} }

// Feed returns c encoded as kind, with links below base(), which is asked for only when
// this encoding is not kept yet. The JSON feed carries the announcements of ann, and is
// encoded again when they change.
func (c *Edition) Feed(key feedKey, ann func() feedAnnouncements, annVersion int64, base func() string) (*encodedFeed, error) {
	kind := key.kind
	current := func(f any) bool { return kind != feed.JSON || f.(*encodedFeed).announcements == annVersion }
	if f, ok := c.feeds.entries.Load(key); ok && current(f) {
		return f.(*encodedFeed), nil
	}
	c.feeds.mu.Lock()
	defer c.feeds.mu.Unlock()
	old, kept := c.feeds.entries.Load(key)
	if kept && current(old) {
		return old.(*encodedFeed), nil
	}
	var a feedAnnouncements
	if kind == feed.JSON {
		a = ann()
	}
	f, err := encodeFeed(c, kind, base(), a)
	if err != nil {
		return nil, err
	}
	if kept || c.feeds.n < 3*maxFeedBases {
		c.feeds.entries.Store(key, f)
		if !kept {
			c.feeds.n++
		}
	}
	return f, nil
}

// feedPaths are where each kind is served, for its self link.
var feedPaths = [...]string{feed.JSON: "/api/feed.json", feed.RSS: "/api/feed.rss", feed.Atom: "/api/feed.atom"}

func encodeFeed(c *Edition, kind feed.Kind, base string, ann feedAnnouncements) (*encodedFeed, error) {
	fd := feed.Feed{
		Userlist: c.Userlist, Title: c.Title(), Locale: c.Locale,
		Home:  base + "/screens/" + c.Userlist,
		Items: c.feedItems(base), FetchedAt: c.FetchedAt, Stale: c.Stale, Version: c.Version,
		IDs: c.feedIDs,
	}
	if base != "" {
		fd.Self = base + feedPaths[kind] + "?userlist=" + c.Userlist
	}
	for _, a := range ann.list {
		fd.Announcements = append(fd.Announcements, feed.Announcement{ID: a.ID, Title: a.Title, Text: a.Text, Severity: a.Severity, ExpiresAt: a.ExpiresAt})
	}
	body, err := feed.Encode(kind, fd)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body) //nolint:errcheck // a bytes.Buffer does not fail
	zw.Close()     //nolint:errcheck
	f := &encodedFeed{
		contentType: kind.MediaType(),
		body:        body,
		etag:        strongETag(body),
		gz:          gz.Bytes(),
		gzETag:      strongETag(gz.Bytes()),
	}
	f.contentTypeHeader, f.etagHeader, f.gzETagHeader = []string{f.contentType}, []string{f.etag}, []string{f.gzETag}
	f.announcements = ann.version
	f.lengthHeader, f.gzLengthHeader = []string{strconv.Itoa(len(f.body))}, []string{strconv.Itoa(len(f.gz))}
	return f, nil
}

// strongETag is a strong validator of body: a hash of its bytes.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
