package spencerclient_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// nastySecret has what escapes differently in a form, a URL path, JSON and HTML, and two
// spaces that a reflowing excerpt would collapse.
const nastySecret = `s3cr"et/+ &ü<x>  two-spaces-and-more-Value-9`

// leaks returns the pieces of secret found in text: the whole, any 8-character run of it
// (what a cut leaves), or its Basic encoding.
func leaks(text string, secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(text, s[i:i+8]) {
				out = append(out, s[i:i+8])
				break
			}
		}
	}
	return out
}

// TestCredentialsNeverLeaveTheClient: an identity service and an API that echo the whole
// request into their error bodies (raw, URL-encoded, JSON-escaped, the Basic header, the
// bearer token, each cut at the message limit) leave no part of a credential in the
// client's errors or its token status, in every token style.
func TestCredentialsNeverLeaveTheClient(t *testing.T) {
	for _, tc := range []struct {
		name      string
		style     spencertest.TokenStyle
		tokenAuth string
	}{
		{"form, body", spencertest.StyleForm, spencerclient.TokenAuthBody},
		{"form, basic", spencertest.StyleForm, spencerclient.TokenAuthBasic},
		{"json, body", spencertest.StyleJSON, spencerclient.TokenAuthBody},
		{"json, basic", spencertest.StyleJSON, spencerclient.TokenAuthBasic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			fake.SetTokenStyle(tc.style)
			fake.RequireBasicAuth(tc.tokenAuth == spencerclient.TokenAuthBasic)
			fake.SetCredentials(spencertest.ClientID, nastySecret)
			c := newClient(t, fake, func(cfg *spencerclient.Config) {
				cfg.ClientSecret = nastySecret
				cfg.AuthStyle, cfg.TokenAuth = tc.style.String(), tc.tokenAuth
			})
			basic := base64.StdEncoding.EncodeToString([]byte(spencertest.ClientID + ":" + nastySecret))
			// Move the echo along so that the message's length limit cuts every spelling.
			recognized := 0
			for pad := 0; pad <= 420; pad += 7 {
				fake.SetFault(spencertest.Fault{TokenEchoAll: true, EchoPadding: pad})
				_, err := c.Publications(context.Background(), listID)
				if err == nil {
					t.Fatal("no error from an echoing token endpoint")
				}
				for _, text := range []string{err.Error(), c.TokenStatus().LastError} {
					if l := leaks(text, nastySecret, basic); len(l) > 0 {
						t.Fatalf("token failure (padding %d) leaks %q in %q", pad, l, text)
					}
				}
				if strings.Contains(err.Error(), "[redacted]") {
					recognized++
				}
			}
			if recognized < 5 {
				t.Errorf("the echo was recognized only %d times", recognized)
			}

			// Now a token is issued, and the API echoes the request that carried it.
			fake.SetFault(spencertest.Fault{})
			if _, err := c.Publications(context.Background(), listID); err != nil {
				t.Fatal(err)
			}
			for pad := 0; pad <= 210; pad += 5 {
				fake.SetFault(spencertest.Fault{PublicationsEchoAll: true, EchoPadding: pad})
				_, err := c.Publications(context.Background(), listID)
				if err == nil {
					t.Fatal("no error from an echoing API")
				}
				if l := leaks(err.Error(), nastySecret, basic); len(l) > 0 || strings.Contains(err.Error(), "at-") {
					t.Fatalf("API failure (padding %d) leaks %q (or the access token) in %q", pad, l, err)
				}
			}
		})
	}
}
