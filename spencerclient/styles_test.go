package spencerclient_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// TestTokenStylesScenario runs one scenario against every token endpoint style we support:
// three fetches across two token lifetimes, then a revoked token. It counts token
// requests: one per lifetime (renewed before expiry, never per request), one renewal per
// 401, and no 401 caused by a renewal that lagged behind the lifetime.
func TestTokenStylesScenario(t *testing.T) {
	for _, tc := range []struct {
		name      string
		style     spencertest.TokenStyle
		basic     bool
		lifetime  time.Duration
		authStyle string
		tokenAuth string
	}{
		{"Spencer form", spencertest.StyleForm, false, time.Hour, "form", "body"},
		{"form with Basic", spencertest.StyleForm, true, time.Hour, "form", "basic"},
		{"Spotnana form 3600 s", spencertest.StyleForm, false, 3600 * time.Second, "", ""},
		{"Kaisa json 300 s", spencertest.StyleJSON, false, 300 * time.Second, "json", "body"},
		{"json with Basic", spencertest.StyleJSON, true, 300 * time.Second, "json", "basic"},
		{"SpringCM json_no_grant", spencertest.StyleJSONNoGrant, false, time.Hour, "json_no_grant", "body"},
		{"Spiro refresh_token_json 24 h", spencertest.StyleRefreshTokenJSON, false, 24 * time.Hour, "refresh_token_json", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			fake.SetTokenStyle(tc.style)
			fake.RequireBasicAuth(tc.basic)
			fake.SetTokenLifetime(tc.lifetime, "number")
			fake.SetRefreshToken("rt-initial")
			var offset atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			fake.SetClock(clock)
			dir := t.TempDir()
			c := newClient(t, fake, func(cfg *spencerclient.Config) {
				cfg.AuthStyle, cfg.TokenAuth = tc.authStyle, tc.tokenAuth
				cfg.RefreshToken, cfg.StateDir = "rt-initial", dir
			})
			spencerclient.SetClock(c, clock)
			fetch := func(at time.Duration) {
				t.Helper()
				offset.Store(int64(at))
				items, err := c.Publications(context.Background(), listID)
				if err != nil {
					t.Fatalf("fetch at %v: %v", at, err)
				}
				if len(items) != 2 {
					t.Fatalf("fetch at %v: %d items", at, len(items))
				}
			}
			fetch(0)
			fetch(tc.lifetime / 2)
			if got := fake.TokenRequests(); got != 1 {
				t.Errorf("token requests within the first lifetime = %d, want 1", got)
			}
			fetch(tc.lifetime + tc.lifetime/2)
			if got := fake.TokenRequests(); got != 2 {
				t.Errorf("token requests across two lifetimes = %d, want 2", got)
			}
			if got := fake.UnauthorizedAnswers(); got != 0 {
				t.Errorf("%d answers 401 before any revocation: the renewal lagged", got)
			}
			fake.RevokeTokens()
			fetch(tc.lifetime + tc.lifetime/2 + time.Second)
			if got := fake.TokenRequests(); got != 3 {
				t.Errorf("token requests after a revocation = %d, want 3 (one renewal)", got)
			}
			if got := fake.UnauthorizedAnswers(); got != 1 {
				t.Errorf("401 answers = %d, want 1", got)
			}
			if tc.style == spencertest.StyleJSONNoGrant {
				if got, all := fake.AltAPIRequests(), fake.PublicationRequests(); got != all || got != 5 {
					t.Errorf("requests to api_base_url = %d of %d, want all 5 there", got, all)
				}
			} else if got := fake.AltAPIRequests(); got != 0 {
				t.Errorf("requests to the api_base_url mount = %d, want 0", got)
			}
		})
	}
}

// TestRefreshTokenRotationSurvivesRestart: with refresh_token_json the newest refresh token
// is kept in the state directory (mode 0600) before the access token is used, and a
// restarted client goes on with it; the configured initial token is dead by then.
func TestRefreshTokenRotationSurvivesRestart(t *testing.T) {
	fake := newFake(t)
	fake.SetTokenStyle(spencertest.StyleRefreshTokenJSON)
	fake.SetRefreshToken("rt-initial")
	dir := t.TempDir()
	mk := func() *spencerclient.Client {
		return newClient(t, fake, func(cfg *spencerclient.Config) {
			cfg.AuthStyle, cfg.RefreshToken, cfg.StateDir = spencerclient.AuthRefreshTokenJSON, "rt-initial", dir
		})
	}
	first := mk()
	if _, err := first.Publications(context.Background(), listID); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "refresh_token")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("refresh token file mode %v, want 0600", st.Mode().Perm())
	}
	stored, _ := os.ReadFile(path)
	if got := strings.TrimSpace(string(stored)); got != fake.RefreshToken() || got == "rt-initial" {
		t.Errorf("stored %q, fake expects %q", got, fake.RefreshToken())
	}
	fake.RevokeTokens() // forces a renewal with the rotated token
	if _, err := first.Publications(context.Background(), listID); err != nil {
		t.Fatalf("renewal with the rotated token: %v", err)
	}
	stored, _ = os.ReadFile(path)
	if strings.TrimSpace(string(stored)) != fake.RefreshToken() {
		t.Errorf("the file does not hold the newest refresh token")
	}

	// A restart: a new client with the same state directory and the old initial token in
	// its config. It must use the stored one.
	before := fake.TokenRequests()
	second := mk()
	if _, err := second.Publications(context.Background(), listID); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if fake.TokenRequests() != before+1 {
		t.Errorf("token requests after restart: %d", fake.TokenRequests()-before)
	}

	// Without the state directory the initial token is refused, and the error keeps the
	// secret and the refresh tokens out.
	lost := newClient(t, fake, func(cfg *spencerclient.Config) {
		cfg.AuthStyle, cfg.RefreshToken = spencerclient.AuthRefreshTokenJSON, "rt-initial"
	})
	_, err = lost.Publications(context.Background(), listID)
	var te *spencerclient.TokenError
	if !errors.As(err, &te) || te.Status != 400 || te.Code != "invalid_grant" {
		t.Fatalf("old refresh token: %v, want a 400 invalid_grant TokenError", err)
	}
	for _, secret := range []string{spencertest.ClientSecret, "rt-initial", fake.RefreshToken()} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q: %v", secret, err)
		}
	}
}

// TestStyleMismatchIsATokenError: a JSON body sent to a form endpoint (and the reverse) is
// refused with a typed error, never silently retried in another style.
func TestStyleMismatchIsATokenError(t *testing.T) {
	fake := newFake(t)
	fake.SetTokenStyle(spencertest.StyleForm)
	c := newClient(t, fake, func(cfg *spencerclient.Config) { cfg.AuthStyle = spencerclient.AuthJSON })
	_, err := c.Publications(context.Background(), listID)
	var te *spencerclient.TokenError
	if !errors.As(err, &te) || te.Status != 400 {
		t.Fatalf("json to a form endpoint: %v", err)
	}
	if fake.TokenRequests() != 1 {
		t.Errorf("token requests %d, want 1", fake.TokenRequests())
	}
}

func TestNewRejectsUnknownStyles(t *testing.T) {
	for _, mod := range []func(*spencerclient.Config){
		func(c *spencerclient.Config) { c.AuthStyle = "magic" },
		func(c *spencerclient.Config) { c.TokenAuth = "header" },
		func(c *spencerclient.Config) { c.AuthStyle = spencerclient.AuthRefreshTokenJSON },
	} {
		cfg := spencerclient.Config{APIURL: "http://127.0.0.1:1", TokenURL: "http://127.0.0.1:1/token"}
		mod(&cfg)
		if _, err := spencerclient.New(cfg); err == nil {
			t.Errorf("New(%+v) gave no error", cfg)
		}
	}
}
