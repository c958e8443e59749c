// Command signage-bench measures the server as `make bench` reports it: feed throughput
// against bare net/http serving the same bytes with the same headers, WebSocket fan-out to
// thousands of screens and the memory they hold, upstream economy and the screen page's
// weight and time to first byte. Every figure is measured side by side in the same run;
// targets print PASS or MISS and never fail.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	clients := flag.Int("clients", 0, "internal: run as the screen-client process with this many screens")
	wsURL := flag.String("ws", "", "internal: the WebSocket URL for -clients (several, comma-separated: screens spread over them)")
	deflate := flag.Bool("deflate", true, "internal: the screens of -clients offer permessage-deflate")
	quick := flag.Bool("quick", false, "smaller figures, for a smoke run")
	only := flag.String("only", "", "comma-separated parts to run: feed, page, media, fanout, cluster (which runs fanout too, to compare), kiosk (default: all)")
	profile := flag.String("profile", "", "write CPU and heap profiles of each part into this directory")
	variants := flag.String("variants", "", "internal: make the variants of this JPEG in a process of its own and report")
	flag.Parse()
	if *variants != "" {
		if err := runVariants(*variants); err != nil {
			fmt.Fprintln(os.Stderr, "variants:", err)
			os.Exit(1)
		}
		return
	}
	if *clients > 0 {
		if err := runClients(*clients, *wsURL, *deflate, *profile); err != nil {
			fmt.Fprintln(os.Stderr, "clients:", err)
			os.Exit(1)
		}
		return
	}
	all := map[string]bool{"feed": true, "page": true, "media": true, "fanout": true, "cluster": true, "kiosk": true}
	parts := all
	if *only != "" {
		parts = map[string]bool{}
		for p := range strings.SplitSeq(*only, ",") {
			p = strings.TrimSpace(p)
			if !all[p] {
				fmt.Fprintf(os.Stderr, "bench: -only: %q is not a part (feed, page, media, fanout, cluster, kiosk)\n", p)
				os.Exit(2)
			}
			parts[p] = true
		}
		// The cluster row is measured beside one instance's fan-out.
		parts["fanout"] = parts["fanout"] || parts["cluster"]
	}
	if err := run(options{quick: *quick, parts: parts, profile: *profile}); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
