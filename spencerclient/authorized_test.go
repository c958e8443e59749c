package spencerclient_test

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestAuthorizedSendsTheTokenThroughTheCallersClient: an attachment on the API host is
// fetched through the caller's own client (here one that counts its requests), with the
// bearer token; a revoked token is renewed once and the request sent once more.
func TestAuthorizedSendsTheTokenThroughTheCallersClient(t *testing.T) {
	fake := newFake(t)
	fake.SetImage("a.png", "image/png", []byte("png bytes"))
	fake.SetImagesNeedToken(true)
	c := newClient(t, fake)
	var sent int
	send := func(r *http.Request) (*http.Response, error) {
		sent++
		return http.DefaultClient.Do(r)
	}
	get := func() (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, fake.URL+"/images/a.png", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Authorized(req, send)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if req.Header.Get("Authorization") != "" {
			t.Error("the caller's request was changed: the token belongs on a copy")
		}
		return resp.StatusCode, string(b)
	}
	if status, body := get(); status != http.StatusOK || body != "png bytes" || sent != 1 {
		t.Fatalf("with the token: %d %q after %d sends; want 200 \"png bytes\" after 1", status, body, sent)
	}
	fake.RevokeTokens()
	tokens, sent := fake.TokenRequests(), 0
	if status, _ := get(); status != http.StatusOK || sent != 2 || fake.TokenRequests()-tokens != 1 {
		t.Errorf("after revocation: %d after %d sends and %d renewals; want 200 after 2 sends and 1 renewal", status, sent, fake.TokenRequests()-tokens)
	}
	// Without the token the fake refuses, which is what the test above relies on.
	resp, err := http.Get(fake.URL + "/images/a.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}
}
