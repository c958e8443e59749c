package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// deviceCookie remembers a kiosk's browser across reloads: a random id of 128 bits, which
// the pairing binds to a managed screen. Its path is /s, so that the browser sends it to
// the kiosk's own routes and nowhere else: never to /admin, which would not take it anyway.
// It is not HttpOnly: the page keeps the id in localStorage too, and puts the cookie back
// from there when a TV's browser lost its cookies but not its storage.
const deviceCookie = "signage_device"

// deviceCookieAge is how long the cookie lasts; every visit renews it. Browsers cap a
// cookie's life at 400 days.
const deviceCookieAge = 400 * 24 * time.Hour

// newRandomID is 128 random bits in hex: the ids of devices and managed screens.
func newRandomID() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// isRandomID reports whether s is what newRandomID makes: 32 lower-case hex digits.
func isRandomID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// deviceKey is what the server keeps of a device id: a hash, so that neither the shared
// maps, nor the log, nor /admin's answers hold what the kiosk's cookie holds.
func deviceKey(id string) string {
	sum := sha256.Sum256([]byte("spencer-signage device v1\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// requestDevice is the device id of a kiosk's request, "" when it sends none (or a
// malformed one).
func requestDevice(c echo.Context) string {
	ck, err := c.Cookie(deviceCookie)
	if err != nil || !isRandomID(ck.Value) {
		return ""
	}
	return ck.Value
}

// kioskDevice is the device id of a kiosk's page: the one its cookie holds, else a new
// one. The cookie is sent again either way, so that it lives as long as the kiosk is in
// use.
func (s *Server) kioskDevice(c echo.Context) string {
	id := requestDevice(c)
	if id == "" {
		id = newRandomID()
	}
	c.SetCookie(&http.Cookie{Name: deviceCookie, Value: id, Path: "/s", MaxAge: int(deviceCookieAge.Seconds()),
		SameSite: http.SameSiteLaxMode, Secure: s.scheme(c) == "https"})
	return id
}
