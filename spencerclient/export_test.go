package spencerclient

import "time"

// SetClock replaces the clock the client's token cache uses, for tests that move time.
func SetClock(c *Client, now func() time.Time) { c.tokens.now = now }

var RenewalMargin = renewalMargin
