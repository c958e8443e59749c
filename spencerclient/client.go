// Package spencerclient is a client of the Spencer Integration API: it fetches the news
// publications of a userlist with a self-renewing OAuth2 token and normalizes them into
// Items. It knows nothing of screens, feeds or HTTP servers.
package spencerclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// DefaultMaxBody is the largest publications body read when Config.MaxBody is zero.
const DefaultMaxBody = 8 << 20

// Config configures a Client.
type Config struct {
	APIURL       string // API base, e.g. https://acme-api.spencer.co; may carry a path
	TokenURL     string // full URL of the token endpoint
	ClientID     string
	ClientSecret string
	Locale       string        // preferred locale of the text; "" for en-US
	Timeout      time.Duration // per request, token requests included; 0 for 10 s
	MaxBody      int64         // publications body limit; 0 for DefaultMaxBody
	UserAgent    string        // e.g. "spencer-signage/1.2.3"
	Logger       *slog.Logger  // nil for slog.Default()

	// AuthStyle is how the token endpoint is asked: AuthForm (default, Spencer),
	// AuthJSON, AuthJSONNoGrant or AuthRefreshTokenJSON.
	AuthStyle string
	// TokenAuth puts the client credentials in the body (TokenAuthBody, default) or in
	// HTTP Basic (TokenAuthBasic).
	TokenAuth string
	// RefreshToken is the initial refresh token of AuthRefreshTokenJSON.
	RefreshToken string
	// StateDir keeps the rotated refresh token of AuthRefreshTokenJSON across restarts
	// (file refresh_token, mode 0600); empty keeps it in memory only.
	StateDir string
	// Tokens shares the tokens with the other instances of a cluster; nil keeps them here.
	Tokens TokenStore
}

// Client fetches publications. It is safe for concurrent use.
type Client struct {
	api    *url.URL
	hc     *http.Client
	tokens *tokenCache
	locale string
	// acceptLanguage asks for the configured locale, and en-US (which Spencer always
	// carries) after it.
	acceptLanguage string
	maxBody        int64
	userAgent      string
	log            *slog.Logger
	red            *redactor
	refresh        *refreshStore

	skippedTotal atomic.Int64
	skipMu       sync.Mutex
	skipLogged   map[string]bool // userlist/index/keys already logged, so each is logged once
}

// New returns a Client for cfg. It does not contact upstream.
func New(cfg Config) (*Client, error) {
	api, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" {
		return nil, fmt.Errorf("spencer: API URL %q is not an absolute http(s) URL", cfg.APIURL)
	}
	if cfg.TokenURL == "" {
		return nil, errors.New("spencer: token URL is empty")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Locale == "" {
		cfg.Locale = "en-US"
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "spencer-signage"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Client{
		api:        api,
		locale:     cfg.Locale,
		maxBody:    cfg.MaxBody,
		userAgent:  cfg.UserAgent,
		log:        cfg.Logger,
		skipLogged: map[string]bool{},
	}
	c.acceptLanguage = cfg.Locale
	if !strings.EqualFold(cfg.Locale, "en-US") {
		c.acceptLanguage += ", en-US;q=0.5"
	}
	c.hc = &http.Client{
		Timeout:   cfg.Timeout,
		Transport: userAgentTransport{ua: cfg.UserAgent, base: http.DefaultTransport},
	}
	c.red = &redactor{id: cfg.ClientID, secret: cfg.ClientSecret}
	if cfg.AuthStyle == AuthRefreshTokenJSON {
		r, err := newRefreshStore(cfg.StateDir, cfg.RefreshToken, cfg.Tokens)
		if err != nil {
			return nil, err
		}
		if r.current() == "" {
			return nil, errors.New("spencer: auth_style refresh_token_json needs a refresh token")
		}
		c.refresh = r
		c.red.refresh = r
	}
	fetch, err := newFetcher(cfg, c.hc, c.refresh, c.red)
	if err != nil {
		return nil, err
	}
	c.tokens = newTokenCache(context.Background(), fetch, c.red, cfg.Tokens)
	return c, nil
}

// TokenStatus describes the current access token (never the token itself).
func (c *Client) TokenStatus() TokenStatus { return c.tokens.Status() }

// SkippedTotal counts publications skipped so far for having neither title nor body.
func (c *Client) SkippedTotal() int64 { return c.skippedTotal.Load() }

// Publications fetches and decodes the news of a userlist. Errors are typed: a
// *NotFoundError (errors.Is ErrNotFound), *UnauthorizedError, *TokenError, *StatusError,
// *DecodeError, *TooLargeError, or a transport error.
func (c *Client) Publications(ctx context.Context, userListID string) ([]Item, error) {
	body, err := c.get(ctx, "agent/integration/api/v1/news/user-lists/"+url.PathEscape(userListID)+"/publications", userListID)
	if err != nil {
		return nil, err
	}
	items, skipped, err := Decode(body, c.locale)
	if err != nil {
		return nil, err
	}
	c.logSkipped(userListID, skipped)
	return items, nil
}

// get does an authorized GET of path below the API base, renewing the token and retrying
// once when upstream answers 401.
func (c *Client) get(ctx context.Context, path, userListID string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Token()
		if err != nil {
			return nil, err
		}
		resp, err := c.do(ctx, c.apiBase(tok).JoinPath(path).String(), tok)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			excerpt := c.excerpt(resp)
			if attempt == 0 {
				c.tokens.invalidate(tok)
				continue
			}
			return nil, &UnauthorizedError{Body: excerpt}
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
			c.excerpt(resp)
			return nil, &NotFoundError{UserListID: userListID, Status: resp.StatusCode}
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			return nil, &StatusError{Status: resp.StatusCode, Body: c.excerpt(resp)}
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
		if err != nil {
			return nil, fmt.Errorf("spencer: reading publications: %w", err)
		}
		if int64(len(body)) > c.maxBody {
			return nil, &TooLargeError{Limit: c.maxBody}
		}
		return body, nil
	}
}

// Authorized sends req with the API's bearer token through send (the caller's own HTTP
// client and its rules), renewing the token and sending once more when the answer is
// 401, as Publications does. It is for what lives on the API host besides the
// publications, such as their attachments; what may be fetched, from where and how much
// of it, is the caller's business. The request must have no body.
func (c *Client) Authorized(req *http.Request, send func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Token()
		if err != nil {
			return nil, err
		}
		r := req.Clone(req.Context())
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := send(r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.excerpt(resp)
			c.tokens.invalidate(tok)
			continue
		}
		return resp, nil
	}
}

// apiBase is the API base URL: the api_base_url a token endpoint named (SpringCM does),
// else the configured one.
func (c *Client) apiBase(tok *oauth2.Token) *url.URL {
	if s, ok := tok.Extra("api_base_url").(string); ok && s != "" {
		if u, err := url.Parse(strings.TrimRight(s, "/")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return u
		}
	}
	return c.api
}

func (c *Client) do(ctx context.Context, u string, tok *oauth2.Token) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", c.acceptLanguage)
	// x/oauth2 would send the token_type as given ("bearer"); the scheme is case-insensitive
	// but some gateways are not, so send it as RFC 6750 spells it.
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return c.hc.Do(req)
}

// excerpt reads the start of an error body for a message and closes it.
func (c *Client) excerpt(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return c.red.excerpt(b)
}

func (c *Client) logSkipped(userListID string, skipped []Skipped) {
	if len(skipped) == 0 {
		return
	}
	c.skippedTotal.Add(int64(len(skipped)))
	c.skipMu.Lock()
	defer c.skipMu.Unlock()
	for _, s := range skipped {
		key := fmt.Sprintf("%s/%d/%s", userListID, s.Index, strings.Join(s.Keys, ","))
		if c.skipLogged[key] {
			continue
		}
		if len(c.skipLogged) < 10000 {
			c.skipLogged[key] = true
		}
		c.log.Warn("publication skipped: neither title nor body",
			slog.String("userlist", userListID), slog.Int("index", s.Index), slog.Any("keys", s.Keys))
	}
}

// userAgentTransport names the product in every request, token requests included.
type userAgentTransport struct {
	ua   string
	base http.RoundTripper
}

func (t userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}
