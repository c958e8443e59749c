// Package news keeps the news of each Spencer userlist: the poller that asks Spencer, the
// last good content of every userlist and its snapshot on disk, and the engine that
// shares them between the instances of a cluster. It renders nothing and speaks no HTTP:
// whoever shows the news subscribes to "userlist U has content version V" and renders it.
package news

import (
	"context"

	"github.com/spencer-signage/signage/spencerclient"
)

// Source is what the poller needs of the Spencer client.
type Source interface {
	Publications(ctx context.Context, userListID string) ([]spencerclient.Item, error)
}

var _ Source = (*spencerclient.Client)(nil)

// Watchers counts the screens of this instance watching a userlist: a userlist that a
// screen shows stays polled.
type Watchers interface {
	Screens(userListID string) int
}
