package server

// pushAnnouncements tells every screen of this instance the announcements it must show.
func (s *Server) pushAnnouncements(list []Announcement) {}

// pushQuiet tells every screen of this instance that the quiet hours began or ended.
func (s *Server) pushQuiet(quiet bool) {}
