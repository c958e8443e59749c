package spencertest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
)

// TokenStyle is how a token endpoint wants to be asked, after the vendors whose public
// documentation describes it.
type TokenStyle string

const (
	// StyleForm: a form-encoded client_credentials grant (Spencer, Spotnana).
	StyleForm TokenStyle = "form"
	// StyleJSON: the same three fields as a JSON body (Kaisa).
	StyleJSON TokenStyle = "json"
	// StyleJSONNoGrant: client_id and client_secret only, as JSON; the answer has a
	// lower-case token_type, expires_in as a string and api_base_url (SpringCM).
	StyleJSONNoGrant TokenStyle = "json_no_grant"
	// StyleRefreshTokenJSON: a refresh_token grant as JSON; every answer carries a new
	// refresh token and the one used is dead from then on (Spiro).
	StyleRefreshTokenJSON TokenStyle = "refresh_token_json"
)

// altAPIPrefix is a second mount of the API, named by StyleJSONNoGrant's api_base_url, so
// a test can see that a client moved to it.
const altAPIPrefix = "/springcm-api"

// String is the style's name, as spencer.auth_style spells it.
func (st TokenStyle) String() string { return string(st) }

func (st TokenStyle) grantType() string {
	switch st {
	case StyleJSONNoGrant:
		return ""
	case StyleRefreshTokenJSON:
		return "refresh_token"
	}
	return "client_credentials"
}

// SetTokenStyle switches the token endpoint to a style.
func (s *Server) SetTokenStyle(st TokenStyle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.style = st
}

// RequireBasicAuth makes the token endpoint accept client credentials only in HTTP Basic.
func (s *Server) RequireBasicAuth(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireBasic = on
}

// SetRefreshToken sets the refresh token StyleRefreshTokenJSON accepts next.
func (s *Server) SetRefreshToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshCurrent = tok
}

// RefreshToken is the one refresh token StyleRefreshTokenJSON accepts now.
func (s *Server) RefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshCurrent
}

// AltAPIRequests counts publications requests to the api_base_url mount.
func (s *Server) AltAPIRequests() int64 { return s.altAPIRequests.Load() }

type tokenRequest struct {
	grantType, clientID, clientSecret, refreshToken string
}

// readTokenRequest reads the body as the style wants it: a form for StyleForm, JSON for
// the others; the wrong one is refused, as a strict vendor endpoint would.
func readTokenRequest(r *http.Request, st TokenStyle) (tokenRequest, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if st == StyleForm {
		if ct != "application/x-www-form-urlencoded" {
			return tokenRequest{}, errors.New("the body must be application/x-www-form-urlencoded")
		}
		if err := r.ParseForm(); err != nil {
			return tokenRequest{}, err
		}
		f := r.PostForm
		return tokenRequest{f.Get("grant_type"), f.Get("client_id"), f.Get("client_secret"), f.Get("refresh_token")}, nil
	}
	if ct != "application/json" {
		return tokenRequest{}, errors.New("the body must be application/json")
	}
	var body struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		return tokenRequest{}, errors.New("the body is not JSON")
	}
	return tokenRequest{body.GrantType, body.ClientID, body.ClientSecret, body.RefreshToken}, nil
}
