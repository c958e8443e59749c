package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// layers holds what screens and embeds show over the news, rendered once per userlist
// and language for the announcements of the moment: the screen's layer (urgent ones over
// everything, informative ones as a banner), the embed's banners, and the WebSocket
// message that carries the screen's. A change of the announcements starts afresh.
type layers struct {
	mu       sync.Mutex
	version  int64 // of the announcements rendered
	rendered map[layerKey]*layer
}

type layerKey struct {
	userlist string
	texts    *views.Texts // the language: a few catalogues, however many locales are asked for
}

type layer struct {
	screen, embed string
	msg           *screens.Message
	// version names the announcements shown ("" for none): a screen that shows them
	// already is not sent them again when it connects.
	version string
}

// maxLayers bounds what is kept per version of the announcements; past it (an on-demand
// userlist per screen, say), layers are rendered per request.
const maxLayers = 1024

// layer is the announcements layer of a userlist in a screen's language.
func (s *Server) layer(userlist, lang string) *layer {
	loc := views.LocaleFor(lang)
	k := layerKey{userlist: userlist, texts: loc.Texts()}
	v := s.announcements.version.Load()
	s.layers.mu.Lock()
	if s.layers.version != v || s.layers.rendered == nil {
		s.layers.version, s.layers.rendered = v, map[layerKey]*layer{}
	}
	if l := s.layers.rendered[k]; l != nil {
		s.layers.mu.Unlock()
		return l
	}
	s.layers.mu.Unlock()

	var list []views.Announcement
	h := sha256.New()
	for _, a := range s.announcements.forUserlist(userlist) {
		list = append(list, views.Announcement{ID: a.ID, Title: a.Title, Text: a.Text, Urgent: a.Urgent()})
		fmt.Fprintf(h, "%s\x00%s\x00", a.ID, a.ExpiresAt)
	}
	version := ""
	if len(list) > 0 {
		version = hex.EncodeToString(h.Sum(nil))[:16]
	}
	var screen, embed bytes.Buffer
	views.Announcements(list, loc).Render(context.Background(), &screen)     //nolint:errcheck // a bytes.Buffer does not fail
	views.EmbedAnnouncements(list, loc).Render(context.Background(), &embed) //nolint:errcheck
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		HTML    string `json:"html"`
	}{"announcements", version, screen.String()})
	l := &layer{screen: screen.String(), embed: embed.String(), msg: screens.NewMessage(b), version: version}

	s.layers.mu.Lock()
	defer s.layers.mu.Unlock()
	if s.layers.version == v && len(s.layers.rendered) < maxLayers {
		s.layers.rendered[k] = l
	}
	return l
}

// quietMessages are the two quiet messages, prepared once.
var quietMessages = [2]*screens.Message{
	screens.NewMessage([]byte(`{"type":"quiet","quiet":false}`)),
	screens.NewMessage([]byte(`{"type":"quiet","quiet":true}`)),
}

func quietMessage(on bool) *screens.Message {
	if on {
		return quietMessages[1]
	}
	return quietMessages[0]
}

// pushAnnouncements tells every screen of this instance the announcements it must show.
func (s *Server) pushAnnouncements([]Announcement) {
	s.hub.Announce(func(sc *screens.Screen) *screens.Message { return s.layer(sc.UserlistID, sc.Lang).msg })
}

// pushQuiet tells every screen of this instance, but those that opted out, that the quiet
// hours began or ended.
func (s *Server) pushQuiet(quiet bool) {
	s.hub.Quiet(quietMessage(quiet))
}

// quietFor reports whether a screen that did (or did not) opt out rests now.
func (s *Server) quietFor(optOut bool) bool { return !optOut && s.quietNow.Load() }
