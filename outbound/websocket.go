package outbound

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// StreamOptions are the options of DialStream.
type StreamOptions struct {
	// Header is sent with the handshake.
	Header http.Header
	// Subprotocols are offered to the server.
	Subprotocols []string
}

// DialStream opens a media stream's WebSocket (ws or wss) under the same
// policy as every request: the URL is checked, the connection's address
// is checked after DNS, redirects are never followed. The handshake takes
// a slot of the account and the destination and runs under
// Config.Timeout; the slots are released when it ends (a stream lives as
// long as its call, whose number the account's flow control bounds).
// Messages larger than Config.MaxResponseBytes end the stream.
func (c *Client) DialStream(ctx context.Context, m Meta, rawURL string, o *StreamOptions) (*websocket.Conn, error) {
	m = m.normal()
	start := time.Now()
	u, err := c.policy.CheckStreamURL(rawURL, m.Trust)
	if err != nil {
		c.finish(ctx, m, "", start, 0, err)
		return nil, err
	}
	host := u.Hostname()
	release, err := c.acquire(ctx, m, destination(u))
	if err != nil {
		c.finish(ctx, m, host, start, 0, err)
		return nil, err
	}
	defer release()
	hctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: c.ws[m.Trust], HTTPHeader: http.Header{}}
	if o != nil {
		opts.HTTPHeader = o.Header.Clone()
		if opts.HTTPHeader == nil {
			opts.HTTPHeader = http.Header{}
		}
		opts.Subprotocols = o.Subprotocols
	}
	if opts.HTTPHeader.Get("User-Agent") == "" {
		opts.HTTPHeader.Set("User-Agent", c.cfg.UserAgent)
	}
	conn, resp, err := websocket.Dial(hctx, u.String(), opts)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err != nil {
		err = fmt.Errorf("outbound: stream to %s: %w", host, err)
		c.finish(ctx, m, host, start, status, err)
		return nil, err
	}
	conn.SetReadLimit(c.cfg.MaxResponseBytes)
	c.finish(ctx, m, host, start, status, nil)
	return conn, nil
}
