package spencerclient

import (
	"context"
	"time"
)

// TokenStore keeps the tokens where every instance of a cluster finds them, so that the
// cluster behaves toward the identity service as one client: the instance that polls
// reuses the access token another one obtained, and a rotating refresh token is never
// used twice. Nil (Config.Tokens) keeps them in this process, and the refresh token in
// StateDir.
type TokenStore interface {
	// LoadAccess returns the stored access token; ok is false when there is none.
	LoadAccess(ctx context.Context) (tok SharedToken, ok bool, err error)
	// SaveAccess stores an access token until it expires.
	SaveAccess(ctx context.Context, tok SharedToken) error
	// LoadRefresh returns the stored refresh token ("" when none).
	LoadRefresh(ctx context.Context) (string, error)
	// SaveRefresh stores a new refresh token; the client uses the new access token that
	// came with it only once this returned without error.
	SaveRefresh(ctx context.Context, tok string) error
}

// SharedToken is an access token as a TokenStore keeps it.
type SharedToken struct {
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry"`
	APIBase     string    `json:"api_base_url,omitempty"` // named by the token endpoint, if it did
}
