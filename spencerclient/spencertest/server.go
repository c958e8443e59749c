// Package spencertest is a fake Spencer Integration API for tests and demo mode, in the
// spirit of net/http/httptest: real HTTP on a loopback port, a token endpoint that checks
// the client credentials and issues tokens of a configurable lifetime, a publications
// endpoint that checks them, switchable faults, and counters of what was asked.
package spencertest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default credentials and customer of a new Server.
const (
	ClientID     = "signage-test-client"
	ClientSecret = "s3cret-Test-Value-never-logged"
	Customer     = "acme"
)

// apiPrefix mounts the API below a non-root path so that a client which drops the base
// URL's path fails the tests.
const apiPrefix = "/spencer-api"

// Fault is a failure the fake is told to produce. The zero Fault is no fault.
type Fault struct {
	Status       int           // publications answer with this status (e.g. 503)
	Delay        time.Duration // publications answer only after this (or when the client gives up)
	Malformed    bool          // publications answer 200 with a body that is not JSON
	OversizeBody int64         // publications answer 200 with a JSON body of this many bytes
	TokenStatus  int           // the token endpoint answers with this status
	TokenDown    bool          // the token endpoint closes the connection without answering
	TokenEcho    bool          // the token endpoint refuses the client and echoes what it sent (a careless gateway)
	// TokenEchoAll and PublicationsEchoAll make the endpoint fail and repeat the whole
	// request in its error body, in every spelling a careless gateway uses: the headers as
	// sent (a Basic header, the bearer token), the body raw (URL-encoded) and
	// JSON-escaped, after EchoPadding characters of padding (so a test can make a
	// message's length limit cut any of them).
	TokenEchoAll        bool
	PublicationsEchoAll bool
	EchoPadding         int
}

// Server is a running fake Spencer.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:38411

	srv *http.Server
	ln  net.Listener

	mu             sync.Mutex
	clientID       string
	clientSecret   string
	lifetime       time.Duration
	lifetimeForm   string               // "number", "string" or "omit"
	tokens         map[string]time.Time // access token -> expiry
	publications   map[string][]byte    // userlist id -> body
	fault          Fault
	now            func() time.Time
	images         map[string]image
	imageBase      string
	stopDemo       chan struct{}
	style          TokenStyle
	requireBasic   bool
	refreshCurrent string
	imagesToken    bool // images need a live token, as attachments behind the API do

	imageRequests       atomic.Int64
	altAPIRequests      atomic.Int64
	tokenRequests       atomic.Int64
	tokenRejects        atomic.Int64
	publicationRequests atomic.Int64
	unauthorizedAnswers atomic.Int64
	perUserlist         sync.Map // id -> *atomic.Int64
	lastUserAgent       atomic.Value
	lastAcceptLanguage  atomic.Value
}

type image struct {
	contentType string
	body        []byte
}

// NewServer starts a fake on 127.0.0.1 with the default credentials and one-hour tokens.
func NewServer() *Server {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		panic("spencertest: " + err.Error())
	}
	return s
}

// Start starts a fake listening on addr.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:          "http://" + ln.Addr().String(),
		ln:           ln,
		clientID:     ClientID,
		clientSecret: ClientSecret,
		lifetime:     time.Hour,
		lifetimeForm: "number",
		style:        StyleForm,
		tokens:       map[string]time.Time{},
		publications: map[string][]byte{},
		images:       map[string]image{},
		now:          time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/oauth2/realms/root/realms/{customer}/access_token", s.handleToken)
	mux.HandleFunc("GET "+apiPrefix+"/agent/integration/api/v1/news/user-lists/{id}/publications", s.handlePublications)
	mux.HandleFunc("GET "+altAPIPrefix+"/agent/integration/api/v1/news/user-lists/{id}/publications", func(w http.ResponseWriter, r *http.Request) {
		s.altAPIRequests.Add(1)
		s.handlePublications(w, r)
	})
	mux.HandleFunc("GET /images/{name}", s.handleImage)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, nil
}

// Close stops the fake and any demo ticker; requests in flight are cut.
func (s *Server) Close() {
	s.mu.Lock()
	if s.stopDemo != nil {
		close(s.stopDemo)
		s.stopDemo = nil
	}
	s.mu.Unlock()
	s.srv.Close()
}

// APIURL is the API base to configure a client with (spencer.api_url).
func (s *Server) APIURL() string { return s.URL + apiPrefix }

// TokenURL is the token endpoint to configure a client with (spencer.token_url).
func (s *Server) TokenURL() string {
	return s.URL + "/auth/oauth2/realms/root/realms/" + Customer + "/access_token"
}

// SetCredentials changes the client id and secret the token endpoint accepts.
func (s *Server) SetCredentials(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientID, s.clientSecret = id, secret
}

// SetTokenLifetime sets the lifetime of tokens issued from now on, and how expires_in is
// written: "number" (3600), "string" ("3600") or "omit" (no expires_in at all; the token
// still dies after the lifetime).
func (s *Server) SetTokenLifetime(d time.Duration, form string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime, s.lifetimeForm = d, form
}

// SetClock replaces the fake's clock, for tests that move time forward.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetPublications makes userListID known with the given publications, encoded as JSON
// (a slice gives a top-level array; pass a map or struct for a wrapped shape).
func (s *Server) SetPublications(userListID string, publications any) {
	b, err := json.Marshal(publications)
	if err != nil {
		panic("spencertest: " + err.Error())
	}
	s.SetRaw(userListID, b)
}

// SetRaw makes userListID known with body as its publications answer, byte for byte.
func (s *Server) SetRaw(userListID string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publications[strings.ToLower(userListID)] = body
}

// RemoveUserlist makes userListID unknown: it gets 404 from now on.
func (s *Server) RemoveUserlist(userListID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.publications, strings.ToLower(userListID))
}

// SetFault switches faults on; SetFault(Fault{}) switches them off.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// RevokeTokens makes every token issued so far invalid (401).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokenRequests counts requests to the token endpoint, rejected ones included.
func (s *Server) TokenRequests() int64 { return s.tokenRequests.Load() }

// TokensIssued counts tokens the endpoint issued.
func (s *Server) TokensIssued() int64 { return s.tokenRequests.Load() - s.tokenRejects.Load() }

// PublicationRequests counts publications requests for all userlists.
func (s *Server) PublicationRequests() int64 { return s.publicationRequests.Load() }

// UnauthorizedAnswers counts 401 answers of the publications endpoint.
func (s *Server) UnauthorizedAnswers() int64 { return s.unauthorizedAnswers.Load() }

// PublicationRequestsFor counts publications requests for one userlist.
func (s *Server) PublicationRequestsFor(userListID string) int64 {
	if v, ok := s.perUserlist.Load(strings.ToLower(userListID)); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// LastUserAgent is the User-Agent of the last publications request.
func (s *Server) LastUserAgent() string {
	v, _ := s.lastUserAgent.Load().(string)
	return v
}

// LastAcceptLanguage is the Accept-Language of the last publications request.
func (s *Server) LastAcceptLanguage() string {
	v, _ := s.lastAcceptLanguage.Load().(string)
	return v
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.tokenRequests.Add(1)
	s.mu.Lock()
	fault, style, basicOnly := s.fault, s.style, s.requireBasic
	s.mu.Unlock()
	reject := func(status int, code, desc string) {
		s.tokenRejects.Add(1)
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if fault.TokenEchoAll {
		s.tokenRejects.Add(1)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": echo(r, fault.EchoPadding)})
		return
	}
	if fault.TokenDown {
		s.tokenRejects.Add(1)
		hijackAndClose(w)
		return
	}
	if fault.TokenStatus != 0 {
		reject(fault.TokenStatus, "temporarily_unavailable", "the identity service is unavailable")
		return
	}
	req, err := readTokenRequest(r, style)
	if err != nil {
		reject(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if fault.TokenEcho {
		reject(http.StatusUnauthorized, "invalid_client", fmt.Sprintf("bad credentials %s:%s (refresh %s)", req.clientID, req.clientSecret, req.refreshToken))
		return
	}
	if u, p, ok := r.BasicAuth(); ok {
		if req.clientID != "" || req.clientSecret != "" {
			reject(http.StatusBadRequest, "invalid_request", "client credentials given twice")
			return
		}
		if style == StyleForm {
			// RFC 6749, 2.3.1: form-encoded before they go into the Basic header.
			u, _ = url.QueryUnescape(u)
			p, _ = url.QueryUnescape(p)
		}
		req.clientID, req.clientSecret = u, p
	} else if basicOnly {
		reject(http.StatusUnauthorized, "invalid_client", "client authentication must use HTTP Basic")
		return
	}
	if want := style.grantType(); req.grantType != want {
		reject(http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type must be %q", want))
		return
	}
	s.mu.Lock()
	good := req.clientID == s.clientID && req.clientSecret == s.clientSecret
	refreshOK := style != StyleRefreshTokenJSON || (req.refreshToken != "" && req.refreshToken == s.refreshCurrent)
	s.mu.Unlock()
	if !good {
		reject(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if !refreshOK {
		reject(http.StatusBadRequest, "invalid_grant", "the refresh token is invalid or was already used")
		return
	}
	writeJSON(w, http.StatusOK, s.issue(style))
}

// issue makes a new token and the answer that carries it, as the style's vendor writes it.
func (s *Server) issue(style TokenStyle) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "at-" + randomHex(16)
	s.tokens[tok] = s.now().Add(s.lifetime)
	answer := map[string]any{"access_token": tok, "token_type": "Bearer", "scope": "news"}
	secs := int64(s.lifetime / time.Second)
	form := s.lifetimeForm
	switch style {
	case StyleJSONNoGrant:
		// SpringCM: lower-case bearer, the lifetime as a string, and the API host to use.
		answer["token_type"] = "bearer"
		answer["api_base_url"] = s.URL + altAPIPrefix
		form = "string"
	case StyleRefreshTokenJSON:
		// Spiro: a new refresh token with every access token; the old one is dead.
		s.refreshCurrent = "rt-" + randomHex(16)
		answer["refresh_token"] = s.refreshCurrent
	}
	switch form {
	case "string":
		answer["expires_in"] = fmt.Sprint(secs)
	case "omit":
	default:
		answer["expires_in"] = secs
	}
	return answer
}

// authorized reports whether the request carries a live token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

func (s *Server) handlePublications(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("id"))
	s.publicationRequests.Add(1)
	v, _ := s.perUserlist.LoadOrStore(id, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	s.lastUserAgent.Store(r.UserAgent())
	s.lastAcceptLanguage.Store(r.Header.Get("Accept-Language"))

	if f := s.currentFault(); f.PublicationsEchoAll && s.authorized(r) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, echo(r, f.EchoPadding)) //nolint:errcheck
		return
	}
	if !s.authorized(r) {
		s.unauthorizedAnswers.Add(1)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Access Token Invalid"})
		return
	}
	s.mu.Lock()
	fault := s.fault
	body, known := s.publications[id]
	s.mu.Unlock()

	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case fault.Status != 0:
		writeJSON(w, fault.Status, map[string]string{"message": http.StatusText(fault.Status)})
		return
	case fault.Malformed:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data": [{"id": 1, "title": "cut off`)) //nolint:errcheck
		return
	case fault.OversizeBody > 0:
		writeOversize(w, fault.OversizeBody)
		return
	case !known:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "User list not found"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body) //nolint:errcheck
}

// writeOversize streams a valid JSON array of about n bytes without holding it in memory.
func writeOversize(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Type", "application/json")
	item := []byte(`{"id":"x","title":"padding","body":"` + strings.Repeat("x", 4000) + `"},`)
	w.Write([]byte("[")) //nolint:errcheck
	for written := int64(1); written+int64(len(item)) < n; written += int64(len(item)) {
		if _, err := w.Write(item); err != nil {
			return
		}
	}
	w.Write([]byte(`{"id":"y","title":"end"}]`)) //nolint:errcheck
}

func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) {
	s.imageRequests.Add(1)
	s.mu.Lock()
	img, ok := s.images[r.PathValue("name")]
	needToken := s.imagesToken
	s.mu.Unlock()
	if needToken && !s.authorized(r) {
		s.unauthorizedAnswers.Add(1)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", img.contentType)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(img.body) //nolint:errcheck
}

// ImageRequests counts the requests for images, answered or not.
func (s *Server) ImageRequests() int64 { return s.imageRequests.Load() }

// SetImagesNeedToken makes the images answer 401 to a request without a live token, as
// attachments served through the API host do.
func (s *Server) SetImagesNeedToken(need bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imagesToken = need
}

// SetImage serves body at URL+"/images/"+name.
func (s *Server) SetImage(name, contentType string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[name] = image{contentType: contentType, body: body}
}

func (s *Server) currentFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

// echo repeats a request the way careless gateways do in their error pages.
func echo(r *http.Request, padding int) string {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	escaped, _ := json.Marshal(string(body))
	return strings.Repeat("=", padding) + "Authorization: " + r.Header.Get("Authorization") +
		"\nbody: " + string(body) + "\njson: " + string(escaped)
}

func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}
