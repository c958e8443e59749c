package screens

import "time"

// A page sends a heartbeat every heartbeat interval and answers our pings; a screen may
// send burstMessages at once, and then one message every interval/rateFactor (ten times
// what a page sends), pings and pongs included, before it is closed with 1008. A flood
// ends after burstMessages, and a page never comes near.
const (
	defaultHeartbeat = 30 * time.Second
	rateFactor       = 10
	burstMessages    = 20
)

// budget is a token bucket of what a screen may still send. Only the screen's reader
// uses it.
type budget struct {
	tokens int64
	last   int64 // unix nanoseconds when the tokens were counted
}

func (b *budget) fill(now int64) {
	b.tokens, b.last = burstMessages, now
}

// take spends one message, adding one for every interval since the last count; false
// when none is left.
func (b *budget) take(every time.Duration, now int64) bool {
	if n := (now - b.last) / int64(every); n > 0 {
		b.tokens = min(burstMessages, b.tokens+n)
		b.last += n * int64(every)
	}
	if b.tokens == 0 {
		return false
	}
	if b.tokens == burstMessages {
		b.last = now // a full bucket saves nothing for later
	}
	b.tokens--
	return true
}
