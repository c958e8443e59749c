package spencerclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// defaultLifetime is assumed for a token whose answer gave no expires_in. x/oauth2 would
// treat such a token as valid forever; we renew it after this and, before that, on a 401.
const defaultLifetime = 5 * time.Minute

// renewalMargin is how long before its expiry a token is renewed: a tenth of its lifetime,
// at least 5 s and at most 60 s, and never more than half the lifetime, so that a 300 s
// token and a 24 h token are both renewed in time and a very short one is not renewed on
// every request.
func renewalMargin(lifetime time.Duration) time.Duration {
	m := min(max(lifetime/10, 5*time.Second), 60*time.Second)
	return min(m, lifetime/2)
}

// tokenFetcher asks the token endpoint for a new token.
type tokenFetcher func(ctx context.Context) (*oauth2.Token, error)

// TokenStatus describes the client's access token without revealing it.
type TokenStatus struct {
	ExpiresAt   time.Time // zero before the first token
	Renewals    int64     // tokens obtained so far
	Failures    int64     // failed attempts so far
	LastError   string    // last failure, "" when the last attempt worked
	LastErrorAt time.Time
}

// tokenCache is an oauth2.TokenSource that reuses a token until shortly before it expires,
// lets concurrent callers share one renewal (they wait on the mutex while it runs), and can
// be told that upstream rejected a token so that the next call renews at once.
type tokenCache struct {
	fetch  tokenFetcher
	ctx    context.Context // long-lived: a renewal is shared, no one caller's context may cancel it
	now    func() time.Time
	red    *redactor
	shared TokenStore // nil: this process only

	mu       sync.Mutex
	tok      *oauth2.Token
	renewAt  time.Time
	rejected string // the access token upstream refused last: never taken from the store again
	status   TokenStatus
}

var _ oauth2.TokenSource = (*tokenCache)(nil)

func newTokenCache(ctx context.Context, fetch tokenFetcher, red *redactor, shared TokenStore) *tokenCache {
	return &tokenCache{fetch: fetch, ctx: ctx, now: time.Now, red: red, shared: shared}
}

// Token returns the cached token, renewing it first when it is missing or due; in a
// cluster, a token another instance obtained and stored counts as cached.
func (c *tokenCache) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.tok != nil && now.Before(c.renewAt) {
		return c.tok, nil
	}
	if tok := c.loadShared(now); tok != nil {
		return tok, nil
	}
	tok, err := c.fetch(c.ctx)
	if err != nil {
		err = c.tokenError(err)
		c.status.Failures++
		c.status.LastError = err.Error()
		c.status.LastErrorAt = now
		return nil, err
	}
	// The lifetime comes from expires_in as sent, measured on our own clock; a token
	// without one is treated as short-lived and otherwise renewed on a 401.
	obtained := c.now()
	lifetime := defaultLifetime
	switch {
	case tok.ExpiresIn > 0:
		lifetime = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		lifetime = time.Until(tok.Expiry)
	}
	tok.Expiry = obtained.Add(lifetime)
	c.red.rememberAccess(tok.AccessToken)
	c.tok = tok
	c.renewAt = tok.Expiry.Add(-renewalMargin(lifetime))
	c.status.Renewals++
	c.status.ExpiresAt = tok.Expiry
	c.status.LastError = ""
	c.saveShared(tok)
	return tok, nil
}

// loadShared takes the token stored by the cluster when it is good for a while yet and is
// not the one upstream just refused.
func (c *tokenCache) loadShared(now time.Time) *oauth2.Token {
	if c.shared == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	st, ok, err := c.shared.LoadAccess(ctx)
	if err != nil || !ok || st.AccessToken == "" || st.AccessToken == c.rejected {
		return nil
	}
	renewAt := st.Expiry.Add(-renewalMargin(st.Expiry.Sub(now)))
	if !now.Before(renewAt) {
		return nil
	}
	tok := &oauth2.Token{AccessToken: st.AccessToken, TokenType: "Bearer", Expiry: st.Expiry}
	if st.APIBase != "" {
		tok = tok.WithExtra(map[string]any{"api_base_url": st.APIBase})
	}
	c.red.rememberAccess(tok.AccessToken)
	c.tok, c.renewAt = tok, renewAt
	c.status.ExpiresAt = st.Expiry
	return tok
}

func (c *tokenCache) saveShared(tok *oauth2.Token) {
	if c.shared == nil {
		return
	}
	st := SharedToken{AccessToken: tok.AccessToken, Expiry: tok.Expiry}
	if s, ok := tok.Extra("api_base_url").(string); ok {
		st.APIBase = s
	}
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	c.shared.SaveAccess(ctx, st) //nolint:errcheck // the next instance asks for a token of its own
}

// invalidate drops tok so that the next Token call renews. A token that was already
// replaced by a concurrent renewal is left alone: every request that saw the same 401
// causes one renewal between them, not one each.
func (c *tokenCache) invalidate(tok *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && tok != nil && c.tok.AccessToken == tok.AccessToken {
		c.tok = nil
		c.rejected = tok.AccessToken
	}
}

func (c *tokenCache) Status() TokenStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// tokenError turns whatever the fetcher returned into a *TokenError with no secret in it.
func (c *tokenCache) tokenError(err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		te.Code = c.red.redact(te.Code)
		te.Description = c.red.redact(te.Description)
		return te
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Code: c.red.excerpt([]byte(re.ErrorCode)), Description: c.red.excerpt([]byte(re.ErrorDescription))}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		if te.Code == "" && te.Description == "" {
			te.Description = c.red.excerpt(re.Body)
		}
		return te
	}
	return &TokenError{Err: redactedError{msg: c.red.redact(err.Error()), err: err}}
}

// redactedError keeps an error's identity for errors.Is/As while its text has the
// secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// bodyExcerpt is the start of an upstream body, on one line, for an error message.
func bodyExcerpt(b []byte) string {
	const n = 200
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// formFetcher asks a token endpoint as RFC 6749 and Spencer document it: a form-encoded
// client_credentials grant, through x/oauth2. The style is set explicitly: x/oauth2's
// auto-detection would try Basic first and cache whatever guess worked.
func formFetcher(tokenURL, clientID, clientSecret string, style oauth2.AuthStyle, hc *http.Client) tokenFetcher {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, AuthStyle: style}
	return func(ctx context.Context) (*oauth2.Token, error) {
		return cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
	}
}
