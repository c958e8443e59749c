package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// runClients is the child process that holds the screens, so that the server's process
// holds only its own side of each connection (and its RSS per screen is clean). It dials
// n screens, prints "ready", waits for a line on stdin, then prints the wall-clock time
// (unix ns) at which each screen received the next deck.
func runClients(n int, url string) error {
	conns := make([]*websocket.Conn, n)
	// Browsers negotiate permessage-deflate; so do these screens.
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256, EnableCompression: true}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var c *websocket.Conn
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				if c, _, err = dialer.Dial(url, nil); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs <- err
				return
			}
			c.SetReadDeadline(time.Now().Add(60 * time.Second)) //nolint:errcheck
			if _, _, err := c.ReadMessage(); err != nil {       // the current deck
				errs <- err
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	stdin := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	stdin.ReadString('\n') //nolint:errcheck

	times := make([]int64, n)
	for i, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				var m struct{ Type string }
				if json.Unmarshal(msg, &m) == nil && m.Type == "deck" {
					times[i] = time.Now().UnixNano()
					return
				}
			}
		})
	}
	wg.Wait()
	out, _ := json.Marshal(times)
	fmt.Println(string(out))
	stdin.ReadString('\n') //nolint:errcheck // hold the screens until told
	for _, c := range conns {
		c.Close()
	}
	return nil
}
