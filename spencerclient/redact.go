package spencerclient

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// redactor keeps the credentials out of every text the client hands out: error messages,
// the token status, log lines. Gateways and identity services echo requests back in their
// error bodies, and not only verbatim: URL-encoded as in a form, JSON-escaped, inside a
// Basic Authorization header (base64 of id:secret), or the access token of a rejected
// request. Texts are redacted before they are shortened or reflowed, so that no part of a
// secret survives a cut.
type redactor struct {
	id, secret string
	refresh    *refreshStore // refresh_token_json only

	mu     sync.Mutex
	access []string // the access tokens issued last
}

// keptAccessTokens is how many recent access tokens are redacted: one in use, and those
// that requests still in flight may carry.
const keptAccessTokens = 4

func (r *redactor) rememberAccess(tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.access = append(r.access[max(0, len(r.access)-keptAccessTokens+1):], tok)
}

// spellings lists the forms under which the credentials may come back, longest first so
// that a longer form is replaced whole before a shorter one inside it.
func (r *redactor) spellings() []string {
	var out []string
	add := func(v string) {
		if len(v) < 4 { // too short to be a secret, and would blank out ordinary words
			return
		}
		jsonEscaped, _ := json.Marshal(v)
		out = append(out, v, url.QueryEscape(v), url.PathEscape(v), strings.Trim(string(jsonEscaped), `"`))
	}
	add(r.secret)
	for _, pair := range []string{r.id + ":" + r.secret, url.QueryEscape(r.id) + ":" + url.QueryEscape(r.secret)} {
		if r.secret == "" {
			break
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString([]byte(pair)))
		}
	}
	if r.refresh != nil {
		for _, t := range r.refresh.secrets() {
			add(t)
		}
	}
	r.mu.Lock()
	for _, t := range r.access {
		add(t)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// redact replaces every spelling of a credential in s.
func (r *redactor) redact(s string) string {
	for _, v := range r.spellings() {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// excerpt is the start of an upstream body for a message, redacted first.
func (r *redactor) excerpt(b []byte) string {
	return bodyExcerpt([]byte(r.redact(string(b))))
}
