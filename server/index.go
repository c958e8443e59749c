package server

import (
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/views"
)

// handleIndex is the start page: configured and recently seen userlists with links to
// their screens, embed snippets and feeds.
func (s *Server) handleIndex(c echo.Context) error {
	page := views.IndexPage{
		BaseURL: s.baseURL(c),
		Default: s.cfg.Screens.DefaultUserlist,
		Demo:    s.opts.Demo,
		Assets:  s.assets,
		KeyHint: len(s.cfg.Server.AccessKeys) > 0,
	}
	seen := map[string]bool{}
	for _, ul := range s.cfg.Screens.Userlists {
		seen[ul.ID] = true
		page.Userlists = append(page.Userlists, s.userlistLink(ul.ID, ul.Name, true))
	}
	var recent []views.UserlistLink
	for _, ul := range s.poller.Userlists() {
		if !seen[ul.ID] {
			recent = append(recent, s.userlistLink(ul.ID, "", false))
		}
	}
	sort.Slice(recent, func(i, j int) bool { return recent[i].ID < recent[j].ID })
	page.Userlists = append(page.Userlists, recent...)
	return s.render(c, views.Index(page))
}

func (s *Server) userlistLink(id, name string, configured bool) views.UserlistLink {
	l := views.UserlistLink{ID: id, Name: name, Configured: configured}
	if ul := s.poller.Get(id); ul != nil {
		l.Unknown = ul.Status().Unknown
		if ct := ul.Content(); ct != nil {
			l.Items, l.Stale = len(ct.Items), ct.Stale
		}
	}
	return l
}
