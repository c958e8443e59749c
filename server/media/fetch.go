package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	// The formats a publication's image may come in; the decoders register themselves
	// with image.DecodeConfig and image.Decode, which judge a file by its first bytes.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// Authorizer sends a request with the Spencer API's bearer token through send, renewing
// the token once when the answer is 401. *spencerclient.Client is one.
type Authorizer interface {
	Authorized(req *http.Request, send func(*http.Request) (*http.Response, error)) (*http.Response, error)
}

// formats are the image formats kept, by the name image.DecodeConfig gives them. An SVG
// (which may carry script) or an HTML page sent as an image is none of them.
var formats = map[string]bool{"jpeg": true, "png": true, "gif": true, "webp": true}

// maxRedirects bounds the redirects one fetch follows.
const maxRedirects = 5

// fetcher fetches images under the policy: the size limit, the pixel limit read from the
// header before the rest is read, the timeout, the addresses it may reach, and the token
// for the API host.
type fetcher struct {
	hc        *http.Client
	api       string // host:port of the API, whose images need the token; "" when none
	auth      Authorizer
	maxBytes  int64
	maxPixels int64
	timeout   time.Duration
	userAgent string
}

func newFetcher(cfg Config) (*fetcher, error) {
	allowed, err := newHosts(cfg.AllowedHosts, cfg.APIURL)
	if err != nil {
		return nil, err
	}
	d := newDialer(allowed, cfg.Timeout)
	tr := &http.Transport{
		// No proxy from the environment: the address policy is judged on the address
		// dialled, which a proxy would hide.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f := &fetcher{
		hc: &http.Client{
			Transport: tr,
			// Every hop is dialled through the same policy; here only the count and the
			// scheme. net/http drops the Authorization header on a hop to another host.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= maxRedirects {
					return &Failure{Reason: ReasonStatus, Permanent: true, Detail: "too many redirects"}
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return &Failure{Reason: ReasonURL, Permanent: true, Detail: "redirect to " + req.URL.Scheme}
				}
				return nil
			},
		},
		auth:      cfg.Authorize,
		maxBytes:  cfg.MaxBytes,
		maxPixels: cfg.MaxPixels,
		timeout:   cfg.Timeout,
		userAgent: cfg.UserAgent,
	}
	if cfg.APIURL != "" && cfg.Authorize != nil {
		u, _ := url.Parse(cfg.APIURL) // newHosts parsed it
		f.api = hostPort(u)
	}
	return f, nil
}

// original is an image as its host sent it, judged by its bytes.
type original struct {
	body          []byte
	format        string // one of formats
	width, height int    // as stored, before the EXIF orientation
}

// fetch gets the image at raw, or says why it cannot be had.
func (f *fetcher) fetch(ctx context.Context, raw string) (*original, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Failure{Reason: ReasonURL, Permanent: true, Detail: "not an absolute http(s) URL"}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Failure{Reason: ReasonURL, Permanent: true, Detail: err.Error()}
	}
	req.Header.Set("Accept", "image/webp,image/jpeg,image/png,image/gif")
	req.Header.Set("User-Agent", f.userAgent)
	var resp *http.Response
	if f.api != "" && hostPort(u) == f.api {
		resp, err = f.auth.Authorized(req, f.hc.Do)
	} else {
		resp, err = f.hc.Do(req)
	}
	if err != nil {
		return nil, transportFailure(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusFailure(resp.StatusCode)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, &Failure{Reason: ReasonTooLarge, Permanent: true, Detail: fmt.Sprintf("%d bytes", resp.ContentLength)}
	}
	// The header is read first, through a copy of what is read: an image of too many
	// pixels is refused before the rest of it is downloaded, let alone decoded.
	body := io.LimitReader(resp.Body, f.maxBytes+1)
	var buf bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(body, &buf))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, &Failure{Reason: ReasonFormat, Permanent: true, Detail: "not JPEG, PNG, GIF or WebP (" + sniffed(buf.Bytes()) + ")"}
		}
		return nil, readFailure(err, "header: ")
	}
	if !formats[format] {
		return nil, &Failure{Reason: ReasonFormat, Permanent: true, Detail: format}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, &Failure{Reason: ReasonDecode, Permanent: true, Detail: "no size"}
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > f.maxPixels {
		return nil, &Failure{Reason: ReasonTooManyPixels, Permanent: true, Detail: fmt.Sprintf("%d×%d", cfg.Width, cfg.Height)}
	}
	if _, err := io.Copy(&buf, body); err != nil {
		return nil, readFailure(err, "")
	}
	if int64(buf.Len()) > f.maxBytes {
		return nil, &Failure{Reason: ReasonTooLarge, Permanent: true, Detail: fmt.Sprintf("over %d bytes", f.maxBytes)}
	}
	return &original{body: buf.Bytes(), format: format, width: cfg.Width, height: cfg.Height}, nil
}

// sniffed names what a refused body looks like, for the log and the status page.
func sniffed(b []byte) string {
	if len(b) > 512 {
		b = b[:512]
	}
	if bytes.Contains(bytes.ToLower(b), []byte("<svg")) {
		return "SVG"
	}
	return http.DetectContentType(b)
}

func statusFailure(code int) *Failure {
	f := &Failure{Reason: ReasonStatus, Detail: fmt.Sprintf("HTTP %d", code)}
	// Asking again may help after a server error or a rate limit; a URL that is gone, or
	// whose signature expired (403), stays so: a new URL in the news is a new fetch.
	f.Permanent = code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout
	return f
}

func transportFailure(err error) *Failure {
	var f *Failure
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, ErrForbiddenAddress):
		return &Failure{Reason: ReasonAddress, Permanent: true, Detail: "a loopback, private or link-local address"}
	}
	// Not the URL, which may carry a signature, in what the log and the status page show.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return readFailure(err, "")
}

func readFailure(err error, prefix string) *Failure {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Failure{Reason: ReasonTimeout, Detail: prefix + "timed out"}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &Failure{Reason: ReasonNetwork, Detail: prefix + "cut off"}
	}
	return &Failure{Reason: ReasonNetwork, Detail: prefix + err.Error()}
}
