package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"
)

// pageClient loads the dashboard the way Chromium does (Accept-Encoding:
// gzip, deflate, br, zstd; the page, its CSS, scripts and icon; then its one
// stream, with the page's render token) and keeps the stream open, reading
// and inflating it as it comes. Every byte it receives on its connections
// (response heads, chunk framing and compressed bodies) is counted.
type pageClient struct {
	wire           atomic.Int64
	client         *http.Client
	acceptEncoding string
}

func newPageClient(acceptEncoding string) *pageClient {
	p := &pageClient{acceptEncoding: acceptEncoding}
	d := &net.Dialer{Timeout: 5 * time.Second}
	p.client = &http.Client{Transport: &http.Transport{
		DisableCompression: true, // the bytes as they come; inflated here
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c, n: &p.wire}, nil
		},
	}}
	return p
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

const chromiumAcceptEncoding = "gzip, deflate, br, zstd"

var (
	assetRe  = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	streamRe = regexp.MustCompile(`@get\('(/api/events[^']*)'`)
)

// firstLoad fetches the page and its assets, opens the stream and returns
// once the stream's first state is in (the _live signal): the bytes
// received so far are the first load. The stream is read on until ctx
// ends; done closes when it ended.
func (p *pageClient) firstLoad(ctx context.Context, base string) (firstLoad int64, done <-chan struct{}, err error) {
	page, err := p.get(ctx, base+"/")
	if err != nil {
		return 0, nil, err
	}
	for _, m := range assetRe.FindAllSubmatch(page, -1) {
		if _, err := p.get(ctx, base+string(m[1])); err != nil {
			return 0, nil, err
		}
	}
	stream := "/api/events"
	if m := streamRe.FindSubmatch(page); m != nil {
		stream = string(m[1])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+stream, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept-Encoding", p.acceptEncoding)
	req.Header.Set("Datastar-Request", "true")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return 0, nil, fmt.Errorf("stream: %s", resp.Status)
	}
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			resp.Body.Close()
			return 0, nil, fmt.Errorf("stream: %w", err)
		}
		body = zr
	}
	live := make(chan struct{})
	end := make(chan struct{})
	go func() {
		defer close(end)
		defer resp.Body.Close()
		br := bufio.NewReader(body)
		seen := false
		for {
			line, err := br.ReadSlice('\n')
			if !seen && bytes.Contains(line, []byte(`"_live":true`)) {
				seen = true
				close(live)
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return
			}
		}
	}()
	select {
	case <-live:
		return p.wire.Load(), end, nil
	case <-end:
		return 0, nil, errors.New("stream ended before its first state")
	case <-time.After(20 * time.Second):
		return 0, nil, errors.New("no first state on the stream within 20 s")
	}
}

// get fetches url as the browser would and returns the body, inflated.
func (p *pageClient) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", p.acceptEncoding)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		body = zr
	}
	return io.ReadAll(body)
}
