package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// rpc is a connection to a browser that speaks commands and events as JSON over a
// WebSocket: the DevTools protocol ({"id","method","params"} → {"id","result"|"error"},
// events {"method","params"}) and WebDriver BiDi (the same, with "type" and a string
// "error" beside its "message"). One goroutine reads; commands wait for their answer by id.
type rpc struct {
	ws      *websocket.Conn
	onEvent func(method string, params json.RawMessage) // called on the reading goroutine

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan rpcMessage
	err     error         // why the connection ended
	done    chan struct{} // closed when it has
}

type rpcMessage struct {
	ID      *int64          `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

func dialRPC(ctx context.Context, url string, onEvent func(string, json.RawMessage)) (*rpc, error) {
	// Old Chromiums' DevTools server drops the connection on a fragmented message, so every
	// command must fit in one frame: gorilla fragments what does not fit its write buffer.
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, WriteBufferSize: 4 << 20}
	ws, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(256 << 20) // screenshots of a 4K viewport, base64
	c := &rpc{ws: ws, onEvent: onEvent, pending: map[int64]chan rpcMessage{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *rpc) read() {
	var err error
	for {
		var m rpcMessage
		if err = c.ws.ReadJSON(&m); err != nil {
			break
		}
		if m.ID == nil {
			if m.Method != "" && c.onEvent != nil {
				c.onEvent(m.Method, m.Params)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
	c.mu.Lock()
	c.err = fmt.Errorf("the browser's connection ended: %w", err)
	c.mu.Unlock()
	close(c.done)
}

// call sends a command and decodes its result into result (when not nil).
func (c *rpc) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan rpcMessage, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	// The write's deadline is not the command's: a write that times out leaves gorilla's
	// connection unusable for every later command, and a write to a browser on this machine
	// never takes long unless the browser hangs.
	c.writeMu.Lock()
	c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
	err := c.ws.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	c.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if len(m.Error) > 0 && string(m.Error) != "null" {
			return fmt.Errorf("%s: %s", method, rpcError(m))
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("%s: decoding %.200s: %w", method, m.Result, err)
		}
		return nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s: %w", method, c.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// rpcError reads the two shapes of an error: the DevTools protocol's {"code","message"},
// and BiDi's error code as a string beside a message.
func rpcError(m rpcMessage) string {
	var obj struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(m.Error, &obj) == nil && obj.Message != "" {
		return fmt.Sprintf("%s (%d)", obj.Message, obj.Code)
	}
	var code string
	if json.Unmarshal(m.Error, &code) == nil {
		return code + ": " + m.Message
	}
	return string(m.Error)
}
