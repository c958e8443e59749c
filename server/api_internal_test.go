package server

import (
	"net/url"
	"testing"
)

// TestQueryValue: queryValue answers as url.Values.Get for every query a reader may send,
// malformed ones included.
func TestQueryValue(t *testing.T) {
	for _, raw := range []string{
		"", "userlist=abc", "a=1&userlist=x&userlist=y", "userlist", "userlist=", "userlist=a%20b",
		"user%6cist=esc", "userlist=a+b", "userlist=%zz&userlist=ok", "userlist=1;x&userlist=2",
		"x=1;userlist=3", "&&userlist=4&", "userlist=%41%42", "%zz=1&userlist=5", "=1&userlist=6",
	} {
		t.Run(raw, func(t *testing.T) {
			q, _ := url.ParseQuery(raw)
			if got, want := queryValue(raw, "userlist"), q.Get("userlist"); got != want {
				t.Errorf("queryValue(%q) = %q, url.Values.Get = %q", raw, got, want)
			}
		})
	}
}

func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"userlist=abc", "a=1&userlist=%41;&userlist=b", "user%6cist=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		if got, want := queryValue(raw, "userlist"), q.Get("userlist"); got != want {
			t.Errorf("queryValue(%q) = %q, url.Values.Get = %q", raw, got, want)
		}
	})
}
