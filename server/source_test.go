package server

import (
	"context"

	"github.com/spencer-signage/signage/spencerclient"
)

// staticSource always answers the same items.
type staticSource []spencerclient.Item

func (s staticSource) Publications(context.Context, string) ([]spencerclient.Item, error) {
	return s, nil
}
