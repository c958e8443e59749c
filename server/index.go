package server

import (
	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/views"
)

// handleIndex is the start page: the configured userlists with links to their screens,
// embed snippets and feeds. Userlists seen on demand are not listed: anyone can make the
// server see any UUID, and the page would list them all. With access keys on, the page
// is public while the screens are not, so it lists no userlist at all.
func (s *Server) handleIndex(c echo.Context) error {
	page := views.IndexPage{
		BaseURL: s.baseURL(c),
		Default: s.cfg.Screens.DefaultUserlist,
		Demo:    s.opts.Demo,
		Assets:  s.assets,
		KeyHint: len(s.cfg.Server.AccessKeys) > 0,
	}
	if !page.KeyHint {
		for _, ul := range s.cfg.Screens.Userlists {
			page.Userlists = append(page.Userlists, s.userlistLink(ul.ID, ul.Name, true))
		}
	}
	return s.render(c, views.Index(page))
}

func (s *Server) userlistLink(id, name string, configured bool) views.UserlistLink {
	l := views.UserlistLink{ID: id, Name: name, Configured: configured}
	if ul := s.news.Get(id); ul != nil {
		l.Unknown = ul.Status().Unknown
		if ct := ul.Content(); ct != nil {
			l.Items, l.Stale = len(ct.Items), ct.Stale
		}
	}
	return l
}
