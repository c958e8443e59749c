package spencerclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/oauth2"
)

// Token endpoint styles (Config.AuthStyle).
const (
	AuthForm             = "form"               // form-encoded client_credentials (Spencer): x/oauth2
	AuthJSON             = "json"               // the same fields as a JSON body
	AuthJSONNoGrant      = "json_no_grant"      // {"client_id","client_secret"} only
	AuthRefreshTokenJSON = "refresh_token_json" // a rotating refresh token, as JSON
)

// Where the client credentials go (Config.TokenAuth).
const (
	TokenAuthBody  = "body"
	TokenAuthBasic = "basic"
)

// newFetcher picks how tokens are asked for. x/oauth2 serves the form styles; the JSON
// styles and refresh-token rotation are what it cannot do.
func newFetcher(cfg Config, hc *http.Client, refresh *refreshStore, red *redactor) (tokenFetcher, error) {
	basic := false
	switch cfg.TokenAuth {
	case "", TokenAuthBody:
	case TokenAuthBasic:
		basic = true
	default:
		return nil, fmt.Errorf("spencer: token_auth %q is not one of body, basic", cfg.TokenAuth)
	}
	switch cfg.AuthStyle {
	case "", AuthForm:
		style := oauth2.AuthStyleInParams
		if basic {
			style = oauth2.AuthStyleInHeader
		}
		return formFetcher(cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, style, hc), nil
	case AuthJSON, AuthJSONNoGrant, AuthRefreshTokenJSON:
		j := &jsonFetcher{url: cfg.TokenURL, id: cfg.ClientID, secret: cfg.ClientSecret, basic: basic, hc: hc, style: cfg.AuthStyle, refresh: refresh, red: red}
		return j.fetch, nil
	}
	return nil, fmt.Errorf("spencer: auth_style %q is not one of form, json, json_no_grant, refresh_token_json", cfg.AuthStyle)
}

// jsonFetcher asks a token endpoint with a JSON body.
type jsonFetcher struct {
	url, id, secret string
	basic           bool
	style           string
	hc              *http.Client
	refresh         *refreshStore // AuthRefreshTokenJSON only
	red             *redactor
}

func (j *jsonFetcher) fetch(ctx context.Context) (*oauth2.Token, error) {
	body := map[string]string{}
	if !j.basic {
		body["client_id"], body["client_secret"] = j.id, j.secret
	}
	switch j.style {
	case AuthJSON:
		body["grant_type"] = "client_credentials"
	case AuthRefreshTokenJSON:
		body["grant_type"] = "refresh_token"
		body["refresh_token"] = j.refresh.current()
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if j.basic {
		req.SetBasicAuth(j.id, j.secret)
	}
	resp, err := j.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var answer struct {
		AccessToken  string          `json:"access_token"`
		TokenType    string          `json:"token_type"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		RefreshToken string          `json:"refresh_token"`
		APIBaseURL   string          `json:"api_base_url"`
		Error        string          `json:"error"`
		Description  string          `json:"error_description"`
		Message      string          `json:"message"`
	}
	jsonErr := json.Unmarshal(raw, &answer)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || jsonErr != nil || answer.AccessToken == "" {
		te := &TokenError{Status: resp.StatusCode, Code: j.red.excerpt([]byte(answer.Error)), Description: j.red.excerpt([]byte(answer.Description))}
		if te.Description == "" {
			te.Description = j.red.excerpt([]byte(answer.Message))
		}
		if te.Code == "" && te.Description == "" {
			te.Description = j.red.excerpt(raw)
		}
		return nil, te
	}
	if tt := answer.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		return nil, &TokenError{Status: resp.StatusCode, Description: "token_type " + tt + " is not Bearer"}
	}
	tok := &oauth2.Token{AccessToken: answer.AccessToken, TokenType: "Bearer"}
	tok.ExpiresIn = expiresIn(answer.ExpiresIn)
	if answer.APIBaseURL != "" {
		tok = tok.WithExtra(map[string]any{"api_base_url": answer.APIBaseURL})
	}
	if j.style == AuthRefreshTokenJSON && answer.RefreshToken != "" {
		// Keep the new refresh token durably before the access token is used: the old
		// one is dead once it is, so losing the new one would lock the client out.
		if err := j.refresh.rotate(answer.RefreshToken); err != nil {
			return nil, &TokenError{Status: resp.StatusCode, Description: "new refresh token not stored: " + err.Error()}
		}
	}
	return tok, nil
}

// expiresIn reads expires_in as a number or a numeric string; 0 when absent or bad.
func expiresIn(raw json.RawMessage) int64 {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return int64(n)
}

// refreshStore keeps the rotating refresh token: in memory, and in a file of dir written
// atomically with mode 0600 when dir is set (else a restart starts again from the
// configured token, which the vendor may have killed by then).
type refreshStore struct {
	dir    string
	shared TokenStore // a cluster's store: it wins over the file, and is written first

	mu  sync.Mutex
	tok string
	old []string // tokens used before, for redaction
}

const refreshFile = "refresh_token"

// newRefreshStore starts from the token stored in dir, else from initial; a cluster's
// shared store, when it holds one, wins over both.
func newRefreshStore(dir, initial string, shared TokenStore) (*refreshStore, error) {
	r := &refreshStore{dir: dir, tok: initial, shared: shared}
	if dir == "" {
		return r, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, refreshFile))
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		r.tok = strings.TrimSpace(string(b))
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("spencer: reading the stored refresh token: %w", err)
	}
	return r, nil
}

func (r *refreshStore) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shared != nil {
		// Another instance may have rotated it since this one last did.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		tok, err := r.shared.LoadRefresh(ctx)
		cancel()
		if err == nil && tok != "" && tok != r.tok {
			if r.tok != "" {
				r.old = append(r.old[max(0, len(r.old)-7):], r.tok)
			}
			r.tok = tok
		}
	}
	return r.tok
}

func (r *refreshStore) rotate(tok string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.shared.SaveRefresh(ctx, tok)
		cancel()
		if err != nil {
			return fmt.Errorf("storing it for the cluster: %w", err)
		}
	}
	if r.dir != "" {
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			return err
		}
		// Atomically (renameio: temporary file, fsync, rename): a crash never leaves a
		// torn token, and the old one is dead once the new one is used.
		if err := renameio.WriteFile(filepath.Join(r.dir, refreshFile), []byte(tok+"\n"), 0o600); err != nil {
			return err
		}
	}
	if r.tok != "" {
		r.old = append(r.old[max(0, len(r.old)-7):], r.tok)
	}
	r.tok = tok
	return nil
}

// secrets lists the refresh tokens to keep out of messages.
func (r *refreshStore) secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{r.tok}, r.old...)
}
