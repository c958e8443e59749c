package server_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/spencer-signage/signage/server"
)

// post sends an announcement as a script would.
func (e *env) post(body string, header ...string) (*http.Response, string) {
	e.t.Helper()
	return e.request(http.MethodPost, "/admin/announcements", body, header...)
}

func inAnHour() string { return time.Now().Add(time.Hour).UTC().Format(time.RFC3339) }

// TestAnnouncementsAPI: curl posts, lists and ends announcements; bad input gets 400 naming
// the field; a browser on another site is refused; other machines need the admin token.
func TestAnnouncementsAPI(t *testing.T) {
	e := newEnv(t, time.Minute)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install it")
	}
	out, err := exec.Command(curl, "-sS", "-w", "\n%{http_code}", "-X", "POST", e.base+"/admin/announcements",
		"-H", "Content-Type: application/json",
		"-d", `{"title":"Fire drill","text":"Leave by the nearest exit at 11:00.","severity":"urgent","expires_at":"`+inAnHour()+`"}`).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	trimmed := strings.TrimSpace(string(out))
	cut := strings.LastIndex(trimmed, "\n")
	body, code := strings.TrimSpace(trimmed[:cut+1]), trimmed[cut+1:]
	if code != "201" {
		t.Fatalf("POST with curl: %s %s", code, body)
	}
	var a server.Announcement
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.ID == "" || a.Severity != "urgent" || a.CreatedBy != "this machine" {
		t.Fatalf("answer %s (%v)", body, err)
	}
	_, list := e.get("/admin/announcements")
	var all []server.Announcement
	if json.Unmarshal([]byte(list), &all) != nil || len(all) != 1 || all[0].ID != a.ID {
		t.Fatalf("list: %s", list)
	}

	for _, tc := range []struct{ body, field string }{
		{`{"text":"x","severity":"critical","expires_at":"` + inAnHour() + `"}`, "severity"},
		{`{"text":"  ","severity":"info","expires_at":"` + inAnHour() + `"}`, "text"},
		{`{"text":"x","severity":"info","expires_at":"2020-01-01T00:00:00Z"}`, "expires_at"},
		{`{"text":"x","severity":"info","expires_at":"tomorrow"}`, "expires_at"},
		{`{"text":"x","severity":"info"}`, "expires_at"},
		{`{"text":"x","severity":"info","userlists":["lobby"],"expires_at":"` + inAnHour() + `"}`, "userlists[0]"},
		{`{"text":"x","severity":"info","colour":"red","expires_at":"` + inAnHour() + `"}`, "colour"},
		{`{"text":"` + strings.Repeat("x", 17<<10) + `","severity":"info","expires_at":"` + inAnHour() + `"}`, "16 KiB"},
		{`not json`, "JSON"},
		{`{"text":"cut off`, "JSON"},
	} {
		resp, body := e.post(tc.body)
		var answer struct{ Error string }
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(body), &answer) != nil || !strings.Contains(answer.Error, tc.field) {
			t.Errorf("%.60s: %d %s, want 400 with a JSON error naming %s", tc.body, resp.StatusCode, body, tc.field)
		}
	}

	// A page of another site cannot post through the operator's browser.
	resp, _ := e.post(`{"text":"x","severity":"info","expires_at":"`+inAnHour()+`"}`, "Origin", "https://evil.example.com", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	// Another machine needs the admin token.
	req := httptest.NewRequest("POST", "/admin/announcements", strings.NewReader(`{}`))
	if rec := e.serve(req, "203.0.113.9:4000"); rec.Code != http.StatusForbidden {
		t.Errorf("from another machine without a token: %d", rec.Code)
	}

	req, _ = http.NewRequest(http.MethodDelete, e.base+"/admin/announcements/"+a.ID, nil)
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again: %v %v", resp, err)
	}
	if _, list := e.get("/admin/announcements"); strings.TrimSpace(list) != "[]" {
		t.Errorf("after DELETE: %s", list)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"announcement posted"`) || !strings.Contains(logs, `"msg":"announcement ended"`) || !strings.Contains(logs, `"by":"this machine"`) {
		t.Errorf("posts and ends are not logged with who")
	}
}

// TestAnnouncementTextIsPlain: text that would show one thing on the screens and another
// on the status page and in the log (a right-to-left override, an isolate, a zero-width
// character, a byte order mark, C0 and C1 controls) is refused with 400 naming the field,
// and so are 999 combining marks on one letter; French, Arabic, Hebrew, Persian with its
// zero-width non-joiner and an emoji sequence pass, and are shown isolated (<bdi>) on the
// screen, the embed and the status page.
func TestAnnouncementTextIsPlain(t *testing.T) {
	e := newEnv(t, time.Minute)
	announce := func(title, text string) (*http.Response, string) {
		b, _ := json.Marshal(map[string]any{"title": title, "text": text, "severity": "urgent", "expires_at": inAnHour()})
		return e.post(string(b))
	}
	for _, tc := range []struct{ name, title, text, field string }{
		{"a right-to-left override", "", "\u202eLLIRD ERIF", "text"},
		{"an override in the title", "\u202eLLIRD ERIF", "Leave now.", "title"},
		{"a left-to-right override", "", "Exit \u202dleft\u202c now", "text"},
		{"isolates", "", "Exit \u2067left\u2069 now", "text"},
		{"a right-to-left mark", "", "Exit\u200f now", "text"},
		{"a zero-width space", "", "FIRE\u200bDRILL", "text"},
		{"a zero-width joiner at the end", "", "FIRE DRILL\u200d", "text"},
		{"a byte order mark", "\ufeffFire drill", "Leave now.", "title"},
		{"a word joiner", "", "Fire\u2060drill", "text"},
		{"a soft hyphen", "", "Brand\u00adschutz", "text"},
		{"a tag character", "", "Fire drill\U000e0041", "text"},
		{"a C1 control", "", "Fire\u0085drill", "text"},
		{"a C0 control", "", "Fire\u0007drill", "text"},
		{"a newline in the title", "Fire\ndrill", "Leave now.", "title"},
		{"999 combining marks", "", "A" + strings.Repeat("\u0301", 999), "text"},
		{"five marks on one letter", "Zalgo" + strings.Repeat("\u0300", 5), "Leave now.", "title"},
	} {
		resp, body := announce(tc.title, tc.text)
		var answer struct{ Error string }
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(body), &answer) != nil || !strings.HasPrefix(answer.Error, tc.field+":") {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, resp.StatusCode, body, tc.field)
		}
	}
	if _, list := e.get("/admin/announcements"); strings.TrimSpace(list) != "[]" {
		t.Fatalf("refused announcements were stored: %s", list)
	}

	texts := []struct{ title, text string }{
		{"Exercice d'évacuation", "À 11 h, sortez par l'issue la plus proche.\nRassemblement sur le parking."},
		{"تمرين إخلاء", "في الساعة 11:00 غادروا من أقرب مخرج، وتَجَمَّعُوا في الموقف."},
		{"תרגיל פינוי", "בשעה 11:00 צאו ביציאה הקרובה. שָׁלוֹם"},
		{"تمرین تخلیه", "می\u200cخواهیم ساعت ۱۱ ساختمان را ترک کنید."},
		{"Tiê\u0301ng Việt 🧑\u200d🚒", "Diễn tập 1\ufe0f\u20e3\tphòng cháy 🏳\ufe0f\u200d🌈"},
	}
	for _, tc := range texts {
		if resp, body := announce(tc.title, tc.text); resp.StatusCode != http.StatusCreated {
			t.Errorf("%q: %d %s, want 201", tc.title, resp.StatusCode, body)
		}
	}
	pages := map[string]string{
		"the screen":      "/screens/" + lobby,
		"the embed":       "/embed/" + lobby,
		"the status page": "/admin",
	}
	for name, path := range pages {
		_, page := e.get(path)
		isolated := map[string]bool{}
		parseHTML(t, page).Find("bdi").Each(func(_ int, s *goquery.Selection) { isolated[s.Text()] = true })
		for _, tc := range texts {
			if !isolated[tc.title] || !isolated[tc.text] {
				t.Errorf("%s does not show %q and its text each in a <bdi> (isolated: %v)", name, tc.title, isolated)
			}
		}
	}
}

// TestAnnouncementsWithToken: with an admin token, a script sends it as a bearer token.
func TestAnnouncementsWithToken(t *testing.T) {
	const token = "admin-token-for-tests-123"
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AdminToken = token })
	body := `{"text":"Canteen closes at 14:00 today.","severity":"info","expires_at":"` + inAnHour() + `"}`
	if resp, _ := e.post(body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	resp, answer := e.post(body, "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(answer, `"created_by":"admin token"`) {
		t.Errorf("with the token: %d %s", resp.StatusCode, answer)
	}
}

// TestAnnouncementsSurviveRestart: announcements are kept in data_dir (the memory
// engine's shared map), and come back after a restart.
func TestAnnouncementsSurviveRestart(t *testing.T) {
	e := newEnv(t, time.Minute)
	resp, _ := e.post(`{"text":"Kept across restarts.","severity":"info","expires_at":"` + inAnHour() + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.Server.DataDir, "map-announcements.json")); err != nil {
		t.Fatalf("not written to data_dir: %v", err)
	}
	e.stop()
	e.start()
	if _, list := e.get("/admin/announcements"); !strings.Contains(list, "Kept across restarts.") {
		t.Errorf("after a restart: %s", list)
	}
}

// TestAnnouncementsOfTheReleaseBefore: the announcements that the release before kept in
// data_dir/announcements.json are on the screens after the upgrade, an expired one ended
// as a start ended it then; the file goes once they moved, so that one ended after the
// upgrade stays ended after the next restart.
func TestAnnouncementsOfTheReleaseBefore(t *testing.T) {
	hook := &webhook{attempts: 1}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	legacy := `[
  {
    "id": "0b9a3c2e-7f4d-4e1a-9c55-1d2e3f4a5b6c",
    "title": "Fire drill",
    "text": "Kept from the release before.",
    "severity": "urgent",
    "expires_at": "` + inAnHour() + `",
    "created_at": "` + past + `",
    "created_by": "this machine"
  },
  {
    "id": "1c8b4d3f-8e5a-4f2b-8d66-2e3f4a5b6c7d",
    "text": "Expired during the upgrade.",
    "severity": "info",
    "expires_at": "` + past + `",
    "created_at": "` + past + `",
    "created_by": "this machine"
  }
]`
	var dir string
	e := newEnv(t, time.Minute, func(c *server.Config) {
		dir, c.Alerts.WebhookURL = c.Server.DataDir, hs.URL
		if err := os.WriteFile(filepath.Join(dir, "announcements.json"), []byte(legacy), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	_, list := e.get("/admin/announcements")
	if !strings.Contains(list, "Kept from the release before.") || strings.Contains(list, "Expired during the upgrade.") {
		t.Fatalf("after the upgrade: %s", list)
	}
	waitFor(t, 10*time.Second, "the expired one ended", func() bool { return strings.Join(hook.events(), ",") == "announcement_ended" })
	if _, err := os.Stat(filepath.Join(dir, "announcements.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file of the release before is still there: %v", err)
	}
	if resp, _ := e.request(http.MethodDelete, "/admin/announcements/0b9a3c2e-7f4d-4e1a-9c55-1d2e3f4a5b6c", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	e.stop()
	e.start()
	if _, list := e.get("/admin/announcements"); list != "[]\n" {
		t.Errorf("after ending it and a restart: %q", list)
	}
}

// TestAnnouncementsGoToTheWebhook: every post and end is sent to the alert webhook, with
// the text escaped like any alert.
func TestAnnouncementsGoToTheWebhook(t *testing.T) {
	hook := &webhook{attempts: 1}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Alerts.WebhookURL = hs.URL })
	resp, body := e.post(`{"title":"<!channel>","text":"Lift out of order.","severity":"info","expires_at":"` + inAnHour() + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	var a server.Announcement
	json.Unmarshal([]byte(body), &a) //nolint:errcheck
	e.request(http.MethodDelete, "/admin/announcements/"+a.ID, "")
	waitFor(t, 10*time.Second, "both alerts", func() bool { return strings.Join(hook.events(), ",") == "announcement_posted,announcement_ended" })
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if text := hook.alerts[0].Text; !strings.Contains(text, "Lift out of order.") || strings.Contains(text, "<!channel>") {
		t.Errorf("alert text %q", text)
	}
}
