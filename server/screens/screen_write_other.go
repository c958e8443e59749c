//go:build !unix

package screens

// rawWrite is unused where a socket cannot be written without waiting.
type rawWrite struct{}

// tryWrite takes nothing: every frame takes the slow path.
func (s *Screen) tryWrite([]byte) (int, error) { return 0, nil }
