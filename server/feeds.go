package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strconv"
	"sync"
)

// feedKind is one of the feed formats.
type feedKind int

const (
	feedJSON feedKind = iota
	feedRSS
	feedAtom
)

var feedContentTypes = [...]string{
	feedJSON: "application/feed+json; charset=utf-8",
	feedRSS:  "application/rss+xml; charset=utf-8",
	feedAtom: "application/atom+xml; charset=utf-8",
}

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
	kind  feedKind
	https bool
	host  string
}

const maxFeedBases = 8

func newFeedCache() *feedCache { return &feedCache{} }

// Feed returns c encoded as kind, with links below base(), which is asked for only when
// this encoding is not kept yet. The JSON feed carries the announcements of ann, and is
// encoded again when they change.
func (c *Edition) Feed(key feedKey, ids feedIDs, ann func() feedAnnouncements, annVersion int64, base func() string) (*encodedFeed, error) {
	kind := key.kind
	current := func(f any) bool { return kind != feedJSON || f.(*encodedFeed).announcements == annVersion }
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
	if kind == feedJSON {
		a = ann()
	}
	f, err := encodeFeed(c, kind, base(), ids, a)
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
var feedPaths = [...]string{feedJSON: "/api/feed.json", feedRSS: "/api/feed.rss", feedAtom: "/api/feed.atom"}

func encodeFeed(c *Edition, kind feedKind, base string, ids feedIDs, ann feedAnnouncements) (*encodedFeed, error) {
	links := feedLinks{home: base + "/screens/" + c.Userlist, ids: ids}
	if base != "" {
		links.self = base + feedPaths[kind] + "?userlist=" + c.Userlist
	}
	var body []byte
	var err error
	switch kind {
	case feedJSON:
		body, err = json.Marshal(newJSONFeed(c, c.Stale, links, ann.list))
	case feedRSS:
		body, err = encodeRSS(c, links)
	case feedAtom:
		body, err = encodeAtom(c, links)
	}
	if err != nil {
		return nil, fmt.Errorf("encode feed of %s: %w", c.Userlist, err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body) //nolint:errcheck // a bytes.Buffer does not fail
	zw.Close()     //nolint:errcheck
	f := &encodedFeed{
		contentType: feedContentTypes[kind],
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

// imageType guesses an enclosure's media type from its URL; RSS requires one.
func imageType(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		if t := mime.TypeByExtension(path.Ext(parsed.Path)); t != "" {
			return t
		}
	}
	return "image/jpeg"
}

// strongETag is a strong validator of body: a hash of its bytes.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
