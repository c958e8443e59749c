package spencerclient_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

const listID = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"

var samplePublications = []map[string]any{
	{"id": "p1", "title": "Canteen reopens", "body": "<p>New menu.</p>", "publishedAt": "2026-11-20T09:00:00Z"},
	{"id": "p2", "title": "Town hall", "body": "Friday at 4.", "publishedAt": "2026-11-21T09:00:00Z"},
}

func newFake(t *testing.T) *spencertest.Server {
	t.Helper()
	fake := spencertest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetPublications(listID, samplePublications)
	return fake
}

func newClient(t *testing.T, fake *spencertest.Server, mod ...func(*spencerclient.Config)) *spencerclient.Client {
	t.Helper()
	cfg := spencerclient.Config{
		APIURL:       fake.APIURL(),
		TokenURL:     fake.TokenURL(),
		ClientID:     spencertest.ClientID,
		ClientSecret: spencertest.ClientSecret,
		Timeout:      10 * time.Second,
		UserAgent:    "spencer-signage/test",
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := spencerclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPublicationsDecodesAndNamesTheProduct(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	items, err := c.Publications(context.Background(), listID)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Title != "Town hall" || items[1].Title != "Canteen reopens" {
		t.Fatalf("items = %+v, want newest first", items)
	}
	if ua := fake.LastUserAgent(); ua != "spencer-signage/test" {
		t.Errorf("User-Agent = %q", ua)
	}
}

// TestAcceptLanguage: an API that picks the language from the header answers in the
// configured locale, with en-US (which Spencer always carries) as the fallback.
func TestAcceptLanguage(t *testing.T) {
	for locale, want := range map[string]string{"nl-BE": "nl-BE, en-US;q=0.5", "en-US": "en-US", "": "en-US"} {
		fake := newFake(t)
		c := newClient(t, fake, func(cfg *spencerclient.Config) { cfg.Locale = locale })
		if _, err := c.Publications(context.Background(), listID); err != nil {
			t.Fatal(err)
		}
		if got := fake.LastAcceptLanguage(); got != want {
			t.Errorf("locale %q: Accept-Language %q, want %q", locale, got, want)
		}
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 100 {
		wg.Go(func() {
			if _, err := c.Publications(context.Background(), listID); err != nil {
				if failed.Add(1) == 1 {
					t.Log(err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	if got := fake.TokenRequests(); got != 1 {
		t.Errorf("token requests = %d, want 1 for 100 concurrent calls", got)
	}
	if got := fake.PublicationRequests(); got != 100 {
		t.Errorf("publication requests = %d, want 100", got)
	}
}

func TestRevokedTokenRenewsOnceAndRetriesOnce(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	if _, err := c.Publications(context.Background(), listID); err != nil {
		t.Fatal(err)
	}
	fake.RevokeTokens()
	tokBefore, pubBefore := fake.TokenRequests(), fake.PublicationRequests()
	if _, err := c.Publications(context.Background(), listID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if got := fake.TokenRequests() - tokBefore; got != 1 {
		t.Errorf("renewals after revocation = %d, want 1", got)
	}
	if got := fake.PublicationRequests() - pubBefore; got != 2 {
		t.Errorf("publication requests after revocation = %d, want 2 (the 401 and one retry)", got)
	}
	if got := c.TokenStatus().Renewals; got != 2 {
		t.Errorf("TokenStatus().Renewals = %d, want 2", got)
	}
}

func TestRevokedTokenWithConcurrentCallersRenewsOnce(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake)
	if _, err := c.Publications(context.Background(), listID); err != nil {
		t.Fatal(err)
	}
	fake.RevokeTokens()
	before := fake.TokenRequests()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Publications(context.Background(), listID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := fake.TokenRequests() - before; got != 1 {
		t.Errorf("renewals = %d, want 1 shared by 20 callers that all saw the 401", got)
	}
}

func TestPersistent401IsUnauthorizedError(t *testing.T) {
	fake := newFake(t)
	// A token that is dead the moment it is issued: every request gets 401.
	fake.SetTokenLifetime(-time.Second, "omit")
	c := newClient(t, fake)
	_, err := c.Publications(context.Background(), listID)
	var ue *spencerclient.UnauthorizedError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnauthorizedError", err)
	}
	if got := fake.PublicationRequests(); got != 2 {
		t.Errorf("publication requests = %d, want 2 (one retry only)", got)
	}
}

func TestExpiresInForms(t *testing.T) {
	for _, form := range []string{"number", "string", "omit"} {
		t.Run(form, func(t *testing.T) {
			fake := newFake(t)
			fake.SetTokenLifetime(time.Hour, form)
			c := newClient(t, fake)
			start := time.Now()
			for range 3 {
				if _, err := c.Publications(context.Background(), listID); err != nil {
					t.Fatal(err)
				}
			}
			if got := fake.TokenRequests(); got != 1 {
				t.Errorf("token requests = %d, want 1", got)
			}
			exp := c.TokenStatus().ExpiresAt
			want := time.Hour
			if form == "omit" {
				want = 5 * time.Minute // a missing lifetime is treated as short
			}
			if d := exp.Sub(start); d < want-time.Minute || d > want+time.Minute {
				t.Errorf("expires in %v, want about %v", d, want)
			}
		})
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	fake := newFake(t)
	fake.SetTokenLifetime(300*time.Second, "number")
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	fake.SetClock(clock)
	c := newClient(t, fake)
	spencerclient.SetClock(c, clock)
	fetch := func() {
		t.Helper()
		if _, err := c.Publications(context.Background(), listID); err != nil {
			t.Fatal(err)
		}
	}
	fetch()
	offset.Store(int64(200 * time.Second)) // well inside the lifetime
	fetch()
	if got := fake.TokenRequests(); got != 1 {
		t.Fatalf("token requests at 200s = %d, want 1", got)
	}
	offset.Store(int64(275 * time.Second)) // inside the 30 s margin of a 300 s token
	fetch()
	if got := fake.TokenRequests(); got != 2 {
		t.Fatalf("token requests at 275s = %d, want 2 (renewed before expiry)", got)
	}
	if got := fake.UnauthorizedAnswers(); got != 0 {
		t.Errorf("401 answers = %d, want 0: the renewal must not lag behind the lifetime", got)
	}
}

func TestRenewalMargin(t *testing.T) {
	for _, tc := range []struct {
		lifetime, want time.Duration
	}{
		{300 * time.Second, 30 * time.Second},
		{24 * time.Hour, 60 * time.Second},
		{30 * time.Second, 5 * time.Second},
		{4 * time.Second, 2 * time.Second},
	} {
		if got := spencerclient.RenewalMargin(tc.lifetime); got != tc.want {
			t.Errorf("margin(%v) = %v, want %v", tc.lifetime, got, tc.want)
		}
	}
}

func TestTokenEndpointFailuresAreTypedAndKeepTheSecret(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(*spencertest.Server)
		wantStatus int
	}{
		{"down", func(f *spencertest.Server) { f.SetFault(spencertest.Fault{TokenDown: true}) }, 0},
		{"503", func(f *spencertest.Server) { f.SetFault(spencertest.Fault{TokenStatus: 503}) }, 503},
		{"wrong secret", func(f *spencertest.Server) { f.SetCredentials(spencertest.ClientID, "another-secret") }, 401},
		{"gateway echoes the secret", func(f *spencertest.Server) { f.SetFault(spencertest.Fault{TokenEcho: true}) }, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			tc.setup(fake)
			c := newClient(t, fake)
			_, err := c.Publications(context.Background(), listID)
			var te *spencerclient.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want *TokenError", err, err)
			}
			if te.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", te.Status, tc.wantStatus)
			}
			if strings.Contains(err.Error(), spencertest.ClientSecret) {
				t.Errorf("error text holds the secret: %v", err)
			}
			st := c.TokenStatus()
			if st.Failures != 1 || st.LastError == "" || strings.Contains(st.LastError, spencertest.ClientSecret) {
				t.Errorf("TokenStatus = %+v", st)
			}
			if fake.PublicationRequests() != 0 {
				t.Errorf("publications asked without a token")
			}
		})
	}
}

func TestTokenEndpointUnreachable(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, func(cfg *spencerclient.Config) { cfg.TokenURL = "http://127.0.0.1:1/token" })
	_, err := c.Publications(context.Background(), listID)
	var te *spencerclient.TokenError
	if !errors.As(err, &te) || te.Status != 0 || te.Err == nil {
		t.Fatalf("err = %v, want *TokenError with no status and a transport error", err)
	}
}

func TestPublicationErrorsAreTyped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		id    string
		fault spencertest.Fault
		check func(error) bool
	}{
		{"unknown userlist", "00000000-0000-4000-8000-000000000000", spencertest.Fault{}, func(err error) bool {
			var nf *spencerclient.NotFoundError
			return errors.Is(err, spencerclient.ErrNotFound) && errors.As(err, &nf) && nf.Status == 404
		}},
		{"503", listID, spencertest.Fault{Status: 503}, func(err error) bool {
			var se *spencerclient.StatusError
			return errors.As(err, &se) && se.Status == 503
		}},
		{"malformed", listID, spencertest.Fault{Malformed: true}, func(err error) bool {
			var de *spencerclient.DecodeError
			return errors.As(err, &de)
		}},
		{"oversized", listID, spencertest.Fault{OversizeBody: 2 << 20}, func(err error) bool {
			var tl *spencerclient.TooLargeError
			return errors.As(err, &tl) && tl.Limit == 1<<20
		}},
		{"hang", listID, spencertest.Fault{Delay: 30 * time.Second}, func(err error) bool {
			return err != nil && (errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			fake.SetFault(tc.fault)
			c := newClient(t, fake, func(cfg *spencerclient.Config) {
				cfg.Timeout = time.Second
				cfg.MaxBody = 1 << 20
			})
			start := time.Now()
			_, err := c.Publications(context.Background(), tc.id)
			if !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "acme-api.spencer.co", "ftp://x"} {
		if _, err := spencerclient.New(spencerclient.Config{APIURL: u, TokenURL: "http://x/token"}); err == nil {
			t.Errorf("New(%q) gave no error", u)
		}
	}
}
