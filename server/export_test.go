package server

// AlertChecks counts the checks the alerter made, so that tests await them rather than
// sleep; 0 without alerts.
func (s *Server) AlertChecks() int64 {
	if s.alerts == nil {
		return 0
	}
	return s.alerts.checks.Load()
}
