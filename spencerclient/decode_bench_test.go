package spencerclient_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spencer-signage/signage/spencerclient"
)

// BenchmarkDecode decodes a realistic body of 20 publications, sanitizing included.
func BenchmarkDecode(b *testing.B) {
	var pubs []map[string]any
	for i := range 20 {
		pubs = append(pubs, map[string]any{
			"id": fmt.Sprintf("p%d", i), "title": map[string]string{"en-US": fmt.Sprintf("News %d", i), "nl-BE": fmt.Sprintf("Nieuws %d", i)},
			"body":        "<p>" + strings.Repeat("The canteen reopens on <strong>Monday</strong>. ", 15) + "</p><script>x()</script>",
			"publishedAt": "2026-11-20T09:00:00Z", "image": map[string]string{"url": "https://img.example.com/a.jpg"},
			"author": map[string]string{"firstName": "Amira", "lastName": "Jansen"}, "deepLink": "https://intranet.example.com/a",
		})
	}
	body, _ := json.Marshal(map[string]any{"data": pubs})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := spencerclient.Decode(body, "en-US"); err != nil {
			b.Fatal(err)
		}
	}
}
