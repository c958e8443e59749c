// Command signage serves Spencer news to lobby screens, intranet embeds and feed readers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // screens.time_zone works in images without a zone database (distroless)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
