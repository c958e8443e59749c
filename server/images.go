package server

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/views"
)

// MediaPath is where the publications' images are served from our own origin.
const MediaPath = "/media"

// openMedia opens the library of the publications' images under data_dir/media (in
// memory without a data_dir); nil with media.proxy = false, when screens load each image
// from its own host.
func (s *Server) openMedia() (*media.Library, error) {
	m := s.cfg.Media
	if !m.Proxy {
		return nil, nil
	}
	dir := ""
	if s.cfg.Server.DataDir != "" {
		dir = filepath.Join(s.cfg.Server.DataDir, "media")
	}
	api := s.opts.APIURL
	if api == "" {
		api = s.cfg.Spencer.APIBase()
	}
	ua := "spencer-signage"
	if s.opts.Version != "" {
		ua += "/" + s.opts.Version
	}
	cfg := media.Config{
		Dir:          dir,
		MaxBytes:     int64(m.MaxImageMB) << 20,
		MaxPixels:    int64(m.MaxMegapixels) * 1_000_000,
		CacheBytes:   int64(m.CacheMB) << 20,
		AllowedHosts: m.AllowedHosts,
		APIURL:       api,
		Authorize:    s.opts.Authorizer,
		Live:         func(id string) bool { return s.news.Get(id) != nil },
		UserAgent:    ua,
		Log:          s.log.With("part", "media"),
	}
	lib, err := media.Open(cfg)
	if err != nil && cfg.Dir != "" {
		// The screens still reach only this server: the images are kept in memory until
		// data_dir can be written again (after a restart).
		s.log.Error("media not kept on disk: kept in memory", slog.String("dir", cfg.Dir), slog.Any("error", err))
		cfg.Dir = ""
		lib, err = media.Open(cfg)
	}
	return lib, err
}

// handleMedia serves a kept variant. The library writes through sendfile: echo's response
// does not pass io.ReaderFrom on, and without it every file is copied through user space
// (0.63 of http.ServeContent's throughput for a 1280 px JPEG, measured).
func (s *Server) handleMedia(c echo.Context) error {
	s.media.ServeHTTP(fileWriter{c.Response()}, c.Request())
	return nil
}

// fileWriter is echo's response with io.ReaderFrom: the copy goes to the connection's own
// writer (which sends a file with sendfile), and echo still learns the status and size.
type fileWriter struct{ res *echo.Response }

func (w fileWriter) Header() http.Header         { return w.res.Header() }
func (w fileWriter) WriteHeader(code int)        { w.res.WriteHeader(code) }
func (w fileWriter) Write(b []byte) (int, error) { return w.res.Write(b) }

func (w fileWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.res.Committed {
		w.res.WriteHeader(http.StatusOK)
	}
	n, err := io.Copy(w.res.Writer, r)
	w.res.Size += n
	return n, err
}

// onMedia hears that images of these userlists' news were fetched (or failed): their
// editions are made again, and their screens get the new deck when a picture appeared.
func (s *Server) onMedia(userlists []string) {
	for _, id := range userlists {
		if ul := s.news.Get(id); ul != nil {
			if c := ul.Content(); c != nil {
				s.onChange(c)
			}
		}
	}
}

// refsOf are the images c's visible items reference.
func refsOf(c *news.Content) []media.Ref {
	var refs []media.Ref
	for _, it := range c.Items {
		if it.ImageURL != "" {
			refs = append(refs, media.Ref{Item: it.ID, URL: it.ImageURL})
		}
	}
	return refs
}

// picturesOf asks the library which picture each of c's visible items shows (the zero
// Picture for none), and names the answer: the pictures' hashes in order.
func picturesOf(lib *media.Library, c *news.Content) ([]media.Picture, string) {
	pics := make([]media.Picture, len(c.Items))
	var key strings.Builder
	for i, it := range c.Items {
		if p, ok := lib.Image(c.Userlist, it.ID, it.ImageURL); ok {
			pics[i] = p
		}
		key.WriteString(pics[i].Hash)
		key.WriteByte(',')
	}
	return pics, key.String()
}

// renderedVersion names what screens are shown of c with these pictures: c's version
// with each item's picture in place of its image URL, so that a renewed signed URL for
// the same picture changes nothing on a screen, and a picture that arrives does.
func renderedVersion(c *news.Content, pics []media.Picture) string {
	items := make([]spencerclient.Item, len(c.Items))
	for i, it := range c.Items {
		it.ImageURL = pics[i].Hash
		items[i] = it
	}
	return news.Version(c.State, items)
}

// slideImage is what a slide shows of p: the variant a 720p TV takes as src, every
// variant in srcset (the page's sizes picks one for the TV), and p's upright size.
func slideImage(p media.Picture) (src, srcset string, width, height int) {
	var b strings.Builder
	for i, v := range p.Variants {
		if i == 0 || v.Width <= 1280 {
			src = MediaPath + "/" + v.Name
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(MediaPath + "/" + v.Name + " " + strconv.Itoa(v.Width) + "w")
	}
	return src, b.String(), p.Width, p.Height
}

// feedImage is the variant a feed offers of p: the widest up to full HD.
func feedImage(p media.Picture) string {
	name := ""
	for i, v := range p.Variants {
		if i == 0 || v.Width <= 1920 {
			name = v.Name
		}
	}
	return MediaPath + "/" + name
}

// feedItems are the items a feed carries: as Spencer sent them, images and all, but for
// an image no use outside this server (behind the API's token, or signed to expire),
// which the feed offers from our origin while it is kept, and leaves out otherwise.
func (e *Edition) feedItems(base string) []spencerclient.Item {
	if e.media == nil {
		return e.Items
	}
	var items []spencerclient.Item
	for i, it := range e.Items {
		if it.ImageURL == "" || !e.media.Private(it.ImageURL) {
			continue
		}
		if items == nil {
			items = slices.Clone(e.Items)
		}
		items[i].ImageURL = ""
		if p := e.pictures[i]; p.Hash != "" {
			items[i].ImageURL = base + feedImage(p)
		}
	}
	if items == nil {
		return e.Items
	}
	return items
}

// withPictures fills s's image from pic: our variants when the library shows one, else
// nothing (the slide is type-led).
func withPictures(s *views.Slide, pic media.Picture) {
	s.ImageURL, s.ImageSrcset, s.ImageWidth, s.ImageHeight = "", "", 0, 0
	if pic.Hash != "" {
		s.ImageURL, s.ImageSrcset, s.ImageWidth, s.ImageHeight = slideImage(pic)
	}
}

// mediaCollector reads the library's counters at scrape time.
type mediaCollector struct{ lib *media.Library }

var (
	mediaHitsDesc     = prometheus.NewDesc("signage_media_cache_hits_total", "Images of arriving news that were kept already: no fetch.", nil, nil)
	mediaFetchesDesc  = prometheus.NewDesc("signage_media_fetches_total", "Requests to image hosts.", nil, nil)
	mediaFailuresDesc = prometheus.NewDesc("signage_media_failures_total", "Images that could not be had or kept, by reason.", []string{"reason"}, nil)
	mediaBytesDesc    = prometheus.NewDesc("signage_media_bytes", "Bytes on disk of the kept images' variants.", nil, nil)
	mediaImagesDesc   = prometheus.NewDesc("signage_media_images", "Images kept.", nil, nil)
)

func (m mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mediaHitsDesc, mediaFetchesDesc, mediaFailuresDesc, mediaBytesDesc, mediaImagesDesc} {
		ch <- d
	}
}

func (m mediaCollector) Collect(ch chan<- prometheus.Metric) {
	st := m.lib.Stats()
	ch <- prometheus.MustNewConstMetric(mediaHitsDesc, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(mediaFetchesDesc, prometheus.CounterValue, float64(st.Fetches))
	for _, reason := range []string{media.ReasonURL, media.ReasonAddress, media.ReasonStatus, media.ReasonNetwork, media.ReasonTimeout,
		media.ReasonTooLarge, media.ReasonTooManyPixels, media.ReasonFormat, media.ReasonDecode, media.ReasonFull} {
		ch <- prometheus.MustNewConstMetric(mediaFailuresDesc, prometheus.CounterValue, float64(st.Failures[reason]), reason)
	}
	ch <- prometheus.MustNewConstMetric(mediaBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(mediaImagesDesc, prometheus.GaugeValue, float64(st.Pictures))
}
