package server

import "github.com/google/uuid"

// feedIDs makes the permanent ids of Atom feeds and entries: absolute IRIs (RFC 4287,
// 4.2.6) that stay the same across restarts, hosts and instances, so a reader never sees
// an old entry as new. They are name-based UUIDs (RFC 9562, version 5) of the upstream
// (the Spencer customer, else the API's host), the userlist and the publication id.
type feedIDs struct {
	upstream string
}

// idNamespace is the namespace of spencer-signage's name-based UUIDs.
var idNamespace = uuid.MustParse("6f1b1a4e-61d0-4c1e-9a53-7d0f3c2a5e11")

func (f feedIDs) feed(userlist string) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(f.upstream+"\x00"+userlist)).String()
}

func (f feedIDs) item(userlist, publication string) string {
	return "urn:uuid:" + uuid.NewSHA1(idNamespace, []byte(f.upstream+"\x00"+userlist+"\x00"+publication)).String()
}
