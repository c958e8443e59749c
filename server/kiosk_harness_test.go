package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
)

// kiosk is a kiosk's browser as the server meets it, over real HTTP and WebSocket: a
// cookie jar of its own, the pages it opens, and the pairing view's WebSocket.
type kiosk struct {
	t    *testing.T
	base string
	jar  *cookiejar.Jar
}

func newKiosk(t *testing.T, base string) *kiosk {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &kiosk{t: t, base: base, jar: jar}
}

// on is the same kiosk (its cookies) in front of another instance.
func (k *kiosk) on(base string) *kiosk {
	k.t.Helper()
	other := newKiosk(k.t, base)
	from, _ := url.Parse(k.base + "/s")
	to, _ := url.Parse(base + "/s")
	other.jar.SetCookies(to, k.jar.Cookies(from))
	return other
}

// kioskPage is a page a kiosk opened.
type kioskPage struct {
	status int
	body   string
	doc    *goquery.Document
}

// open GETs path with the kiosk's cookies.
func (k *kiosk) open(path string) kioskPage {
	k.t.Helper()
	client := &http.Client{Jar: k.jar, Timeout: 15 * time.Second}
	resp, err := client.Get(k.base + path)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		k.t.Fatal(err)
	}
	return kioskPage{status: resp.StatusCode, body: string(b), doc: doc}
}

// code is the code the pairing view shows, as a person reads it ("" when the page is no
// pairing view).
func (p kioskPage) code() string {
	return strings.TrimSpace(p.doc.Find("[data-testid=pair-code]").Text())
}

// build is what the page says it shows.
func (p kioskPage) build() string { return p.doc.Find("body").AttrOr("data-build", "") }

// headline is the first slide's title ("" when the page shows no slide).
func (p kioskPage) headline() string {
	return strings.TrimSpace(p.doc.Find(".slide.is-active [data-testid=slide-title]").Text())
}

// device is the kiosk's id as its cookie holds it.
func (k *kiosk) device() string {
	u, _ := url.Parse(k.base + "/s")
	for _, c := range k.jar.Cookies(u) {
		if c.Name == "signage_device" {
			return c.Value
		}
	}
	return ""
}

// dial opens the WebSocket of page p, as its script does.
func (k *kiosk) dial(path string, p kioskPage) *websocket.Conn {
	k.t.Helper()
	q := url.Values{"b": {p.build()}}
	if code := strings.ReplaceAll(p.code(), " ", ""); code != "" {
		q.Set("v", code)
	} else {
		q.Set("v", p.doc.Find("#deck").AttrOr("data-version", ""))
	}
	u := "ws" + strings.TrimPrefix(k.base, "http") + path + "?" + q.Encode()
	h := http.Header{}
	if d := k.device(); d != "" {
		h.Set("Cookie", "signage_device="+d)
	}
	conn, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		k.t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	k.t.Cleanup(func() { conn.Close() })
	return conn
}

// kioskMessage is a message to a kiosk's page, with its text.
type kioskMessage struct {
	wsMessage
	raw string
}

// waitType reads messages until one of type kind, failing after timeout.
func waitType(t *testing.T, conn *websocket.Conn, kind string, timeout time.Duration) kioskMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		conn.SetReadDeadline(deadline) //nolint:errcheck
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for a %s message: %v", kind, err)
		}
		var m kioskMessage
		if err := json.Unmarshal(b, &m.wsMessage); err != nil {
			t.Fatalf("message %q: %v", b, err)
		}
		if m.raw = string(b); m.Type == kind {
			return m
		}
	}
}

// managedJSON is a managed screen as /admin/screens answers it.
type managedJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Slug          string     `json:"slug"`
	URL           string     `json:"url"`
	Userlist      string     `json:"userlist"`
	UserlistName  string     `json:"userlist_name"`
	Theme         string     `json:"theme"`
	Interval      int        `json:"interval"`
	Lang          string     `json:"lang"`
	QR            bool       `json:"qr"`
	Clock         bool       `json:"clock"`
	Quiet         bool       `json:"quiet"`
	Paired        bool       `json:"paired"`
	Online        bool       `json:"online"`
	Pages         int        `json:"pages"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	Device        string     `json:"device"` // must never be there
}

type screensJSON struct {
	Screens []managedJSON `json:"screens"`
	Waiting []struct {
		Code     string    `json:"code"`
		SeenAt   time.Time `json:"seen_at"`
		Browser  string    `json:"browser"`
		Address  string    `json:"address"`
		Viewport string    `json:"viewport"`
	} `json:"waiting"`
}

// adminRequest sends a request to an /admin/screens route as a script would, with the
// admin token when the server has one.
func adminRequest(t *testing.T, base, token, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pairKiosk pairs the code with the lobby's userlist under name and returns the screen.
func pairKiosk(t *testing.T, base, code, name string, extra ...string) managedJSON {
	t.Helper()
	body := `{"code":` + quote(code) + `,"name":` + quote(name) + `,"userlist":"` + lobby + `"` + strings.Join(extra, "") + `}`
	status, answer := adminRequest(t, base, "", http.MethodPost, "/admin/screens", body)
	if status != http.StatusCreated {
		t.Fatalf("POST /admin/screens %s: %d %s", body, status, answer)
	}
	var m managedJSON
	if err := json.Unmarshal([]byte(answer), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func listScreens(t *testing.T, base string) screensJSON {
	t.Helper()
	status, body := adminRequest(t, base, "", http.MethodGet, "/admin/screens", "")
	if status != http.StatusOK {
		t.Fatalf("GET /admin/screens: %d %s", status, body)
	}
	var l screensJSON
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
