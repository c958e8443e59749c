package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/news"
)

// Limits of an announcement: short enough to read from across a lobby.
const (
	maxAnnouncementBody  = 16 << 10
	maxAnnouncementTitle = 120
	maxAnnouncementText  = 1000
	maxAnnouncementLists = 200
	maxAnnouncements     = 50
)

// announcements are the active announcements as this instance shows them: what the board
// holds, less what expired. Every change goes to onChange (the screens).
type announcements struct {
	board board
	log   *slog.Logger
	now   func() time.Time

	mu       sync.RWMutex
	active   []Announcement
	changed  time.Time    // when the active set last changed
	version  atomic.Int64 // changes with the active set: part of the feeds' cache key
	onChange func([]Announcement)
}

// changedAt is when the active announcements last changed (zero: never).
func (an *announcements) changedAt() time.Time {
	an.mu.RLock()
	defer an.mu.RUnlock()
	return an.changed
}

// load reads the board again, takes what expired off it, and tells onChange when the
// active set changed. It reports the announcements that this call ended by expiry.
func (an *announcements) load(ctx context.Context) ([]Announcement, error) {
	all, err := an.board.list(ctx)
	if err != nil {
		return nil, err
	}
	now := an.now()
	var active, expired []Announcement
	for _, a := range all {
		if !now.Before(a.ExpiresAt) {
			// Several instances may see it expire: the one whose removal takes it off
			// the board tells the webhook.
			if removed, err := an.board.remove(ctx, a.ID); err == nil && removed {
				expired = append(expired, a)
			}
			continue
		}
		active = append(active, a)
	}
	an.mu.Lock()
	changed := !sameAnnouncements(an.active, active)
	an.active = active
	if changed && an.version.Load() > 0 { // the first load at start is no change to readers
		an.changed = now
	}
	fn := an.onChange
	an.mu.Unlock()
	if changed {
		an.version.Add(1)
		if fn != nil {
			fn(active)
		}
	}
	return expired, nil
}

// restore puts the active announcements back on the board, except those that have expired
// meanwhile, after the board was lost (Redis restarted empty). Every instance of a cluster
// does so; the ids are the same, so they agree. It reports how many it put back.
func (an *announcements) restore(ctx context.Context) int {
	now := an.now()
	n := 0
	for _, a := range an.list() {
		if now.Before(a.ExpiresAt) && an.board.put(ctx, a) == nil {
			n++
		}
	}
	return n
}

// expiredBy reports whether an active announcement has expired by now.
func (an *announcements) expiredBy(now time.Time) bool {
	an.mu.RLock()
	defer an.mu.RUnlock()
	for _, a := range an.active {
		if !now.Before(a.ExpiresAt) {
			return true
		}
	}
	return false
}

// list is the active announcements.
func (an *announcements) list() []Announcement {
	an.mu.RLock()
	defer an.mu.RUnlock()
	return an.active
}

// forUserlist is the active announcements shown with a userlist's news, urgent first.
func (an *announcements) forUserlist(id string) []Announcement {
	var out []Announcement
	for _, a := range an.list() {
		if a.For(id) {
			out = append(out, a)
		}
	}
	return out
}

func sameAnnouncements(a, b []Announcement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !a[i].ExpiresAt.Equal(b[i].ExpiresAt) {
			return false
		}
	}
	return true
}

// announcementRequest is the body of POST /admin/announcements.
type announcementRequest struct {
	Title     string   `json:"title"`
	Text      string   `json:"text"`
	Severity  string   `json:"severity"`
	Userlists []string `json:"userlists"`
	ExpiresAt string   `json:"expires_at"`
}

// validate returns the announcement a request asks for, or an error that names the field.
func (r announcementRequest) validate(now time.Time) (Announcement, error) {
	text := strings.ReplaceAll(r.Text, "\r\n", "\n") // as a Windows script or form sends it
	a := Announcement{Title: strings.TrimSpace(r.Title), Text: strings.TrimSpace(text), Severity: r.Severity, CreatedAt: now}
	if err := checkPlainText("title", a.Title, false); err != nil {
		return a, err
	}
	if err := checkPlainText("text", a.Text, true); err != nil {
		return a, err
	}
	switch {
	case a.Severity != "info" && a.Severity != "urgent":
		return a, fmt.Errorf("severity: %q is not info or urgent", r.Severity)
	case a.Text == "":
		return a, errors.New("text: it is empty: say what the screens should show")
	case utf8.RuneCountInString(a.Text) > maxAnnouncementText:
		return a, fmt.Errorf("text: it is longer than %d characters", maxAnnouncementText)
	case utf8.RuneCountInString(a.Title) > maxAnnouncementTitle:
		return a, fmt.Errorf("title: it is longer than %d characters", maxAnnouncementTitle)
	case len(r.Userlists) > maxAnnouncementLists:
		return a, fmt.Errorf("userlists: more than %d", maxAnnouncementLists)
	}
	for i, id := range r.Userlists {
		id = strings.ToLower(strings.TrimSpace(id))
		if !IsUUID(id) {
			return a, fmt.Errorf("userlists[%d]: %q is not a userlist id (a UUID)", i, r.Userlists[i])
		}
		a.Userlists = append(a.Userlists, id)
	}
	if r.ExpiresAt == "" {
		return a, errors.New("expires_at: it is missing: say until when, as RFC 3339 (e.g. 2026-11-29T18:00:00+01:00)")
	}
	exp, err := time.Parse(time.RFC3339, r.ExpiresAt)
	switch {
	case err != nil:
		return a, fmt.Errorf("expires_at: %q is not an RFC 3339 time like 2026-11-29T18:00:00+01:00", r.ExpiresAt)
	case !exp.After(now):
		return a, errors.New("expires_at: it is in the past")
	case exp.After(now.AddDate(1, 0, 0)):
		return a, errors.New("expires_at: it is more than a year away")
	}
	a.ExpiresAt = exp.UTC()
	return a, nil
}

// who says who may have posted a request, for the log and the webhook: the holder of the
// admin token, or someone on this machine.
func (s *Server) who() string {
	if s.cfg.Server.AdminToken != "" {
		return "admin token"
	}
	return "this machine"
}

// checkCrossOrigin refuses a browser's request from another site; scripts (curl) send no
// Origin or Sec-Fetch-Site and pass. net/http's CrossOriginProtection does exactly this.
func (s *Server) checkCrossOrigin(c echo.Context) error {
	if err := s.crossOrigin.Check(c.Request()); err != nil {
		return errorf(http.StatusForbidden, "Announcements are accepted from this server's own pages and from scripts, not from other sites.")
	}
	return nil
}

// handlePostAnnouncement puts an announcement on the screens.
func (s *Server) handlePostAnnouncement(c echo.Context) error {
	if err := s.checkCrossOrigin(c); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxAnnouncementBody))
	if err != nil {
		return errorf(http.StatusBadRequest, fmt.Sprintf("The body is over %d KiB.", maxAnnouncementBody>>10))
	}
	var req announcementRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, "The body is not an announcement: "+jsonProblem(err, "title, text, severity, userlists, expires_at"))
	}
	a, err := req.validate(s.now())
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	full := errorf(http.StatusConflict, fmt.Sprintf("There are %d active announcements already: end one first.", maxAnnouncements))
	if len(s.announcements.list()) >= maxAnnouncements {
		return full
	}
	a.ID, a.CreatedBy = uuid.NewString(), s.who()
	ctx := c.Request().Context()
	if err := s.announcements.board.add(ctx, a); errors.Is(err, errBoardFull) {
		return full // others posted meanwhile, on this instance or another
	} else if err != nil {
		return fmt.Errorf("announcement not stored: %w", err)
	}
	// ErrEmptied: Redis restarted empty just now; the resync it started reads this back.
	if _, err := s.announcements.load(ctx); err != nil && !errors.Is(err, news.ErrEmptied) {
		return fmt.Errorf("announcements not read back: %w", err)
	}
	s.log.Info("announcement posted", slog.String("id", a.ID), slog.String("severity", a.Severity),
		slog.Int("userlists", len(a.Userlists)), slog.Time("expires_at", a.ExpiresAt),
		slog.String("by", a.CreatedBy), slog.String("remote", c.RealIP()))
	s.alertAnnouncement("announcement_posted", a, "posted by "+a.CreatedBy)
	c.Response().Header().Set("Location", "/admin/announcements/"+a.ID)
	return c.JSON(http.StatusCreated, a)
}

// handleListAnnouncements lists the active announcements.
func (s *Server) handleListAnnouncements(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	list := s.announcements.list()
	if list == nil {
		list = []Announcement{}
	}
	return c.JSON(http.StatusOK, list)
}

// handleDeleteAnnouncement ends an announcement.
func (s *Server) handleDeleteAnnouncement(c echo.Context) error {
	if err := s.checkCrossOrigin(c); err != nil {
		return err
	}
	id := strings.ToLower(c.Param("id"))
	var ended *Announcement
	for _, a := range s.announcements.list() {
		if a.ID == id {
			ended = &a
		}
	}
	ctx := c.Request().Context()
	removed, err := s.announcements.board.remove(ctx, id)
	if err != nil {
		return fmt.Errorf("announcement not removed: %w", err)
	}
	if !removed {
		return errorf(http.StatusNotFound, "There is no active announcement with this id.")
	}
	// ErrEmptied: Redis restarted empty just now; the resync it started reads this back.
	if _, err := s.announcements.load(ctx); err != nil && !errors.Is(err, news.ErrEmptied) {
		return fmt.Errorf("announcements not read back: %w", err)
	}
	s.log.Info("announcement ended", slog.String("id", id), slog.String("by", s.who()), slog.String("remote", c.RealIP()))
	if ended != nil {
		s.alertAnnouncement("announcement_ended", *ended, "ended by "+s.who())
	}
	if c.Request().Method == http.MethodPost { // the status page's End button: back to it
		return c.Redirect(http.StatusSeeOther, "/admin")
	}
	return c.NoContent(http.StatusNoContent)
}

// alertAnnouncement tells the webhook, when there is one.
func (s *Server) alertAnnouncement(event string, a Announcement, how string) {
	if s.alerts == nil {
		return
	}
	label := "Announcement"
	if a.Urgent() {
		label = "Urgent announcement"
	}
	text := a.Text
	if a.Title != "" {
		text = a.Title + ": " + a.Text
	}
	s.alerts.enqueue(Alert{Event: event, At: s.now(), Since: a.CreatedAt,
		Text: slackEscape(fmt.Sprintf("%s %s (%s, until %s): %s", label, strings.TrimPrefix(event, "announcement_"), how, a.ExpiresAt.Format(time.RFC3339), text))})
}

// jsonProblem says what is wrong with a JSON body without echoing it; fields are those it
// may have, for the message about one it may not.
func jsonProblem(err error, fields string) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "it is not valid JSON"
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: expected %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") + " (fields: " + fields + ")"
	case errors.Is(err, io.EOF):
		return "it is empty"
	}
	return "it could not be read"
}

// reloadAnnouncements reads the board again and tells the webhook of those this read took
// off it by expiry. It runs when one has expired, when another instance of a cluster
// changed the board, and after this one (re)subscribed, since a change made while it
// could not hear (starting, or Redis away) was not told to it.
func (s *Server) reloadAnnouncements() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	expired, err := s.announcements.load(ctx)
	cancel()
	if err != nil {
		s.log.Warn("announcements not read", slog.Any("error", err))
	}
	for _, a := range expired {
		s.log.Info("announcement expired", slog.String("id", a.ID))
		s.alertAnnouncement("announcement_ended", a, "expired")
	}
}

// tick runs every second for the life of the server: it ends announcements when they
// expire, puts screens to rest and wakes them as quiet hours begin and end, and now and
// then tells the cluster when its waiting kiosks were last heard of.
func (s *Server) tick(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := s.now()
		if s.announcements.expiredBy(now) {
			s.reloadAnnouncements()
		}
		s.checkQuiet(now)
		if real := time.Now(); real.Sub(s.pairing.refreshed) >= waitingRefreshEvery {
			s.pairing.refreshed = real
			s.refreshWaiting()
		}
	}
}
