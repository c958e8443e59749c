// Command signage-bench measures the server as `make bench` reports it: feed throughput
// against bare net/http serving the same bytes, WebSocket fan-out to thousands of screens,
// upstream economy and the screen page's weight and time to first byte. Every figure is
// measured side by side in the same run; targets print PASS or MISS and never fail.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	clients := flag.Int("clients", 0, "internal: run as the screen-client process with this many screens")
	wsURL := flag.String("ws", "", "internal: the WebSocket URL for -clients")
	quick := flag.Bool("quick", false, "smaller figures, for a smoke run")
	flag.Parse()
	if *clients > 0 {
		if err := runClients(*clients, *wsURL); err != nil {
			fmt.Fprintln(os.Stderr, "clients:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*quick); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
