package feed

import "github.com/google/uuid"

// IDs makes the permanent ids of Atom feeds and entries: absolute IRIs (RFC 4287, 4.2.6)
// that stay the same across restarts, hosts and instances, so that a reader never sees an
// old entry as new. They are name-based UUIDs (RFC 9562, version 5) of the upstream, the
// userlist and the publication id.
type IDs struct {
	upstream string
}

// NewIDs returns the ids of the news of upstream: a name of the Spencer it comes from
// that does not change with the address it is reached at (the customer, else the API's
// host).
func NewIDs(upstream string) IDs { return IDs{upstream: upstream} }

// idNamespace is the namespace of spencer-signage's name-based UUIDs.
var idNamespace = uuid.MustParse("6f1b1a4e-61d0-4c1e-9a53-7d0f3c2a5e11")

// Feed is the id of a userlist's feed.
func (f IDs) Feed(userlist string) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(f.upstream+"\x00"+userlist)).String()
}

// Item is the id of a publication in a userlist's feed.
func (f IDs) Item(userlist, publication string) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(f.upstream+"\x00"+userlist+"\x00"+publication)).String()
}
