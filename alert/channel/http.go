package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Every HTTP channel type (webhook, ntfy, slack, discord, telegram,
// alertmanager) sends its requests through an httpTarget:
//
//   - Idempotency-Key: the message id, the same on every retry, so a
//     receiver can drop the duplicate a crash between send and mark causes;
//   - User-Agent: dashd/<version>;
//   - no redirects followed: a 3xx is a permanent error naming where it
//     pointed (a webhook that moved is a configuration to fix, not a hop to
//     another host with the message and its credentials);
//   - TLS verified (ca_file, insecure_skip_verify);
//   - proxies from the environment (HTTPS_PROXY, NO_PROXY), never for
//     loopback addresses;
//   - no connection kept alive: a channel sends a few messages an hour, and
//     nothing stays open between attempts;
//   - at most maxAnswer bytes of an answer read, of which errors quote the
//     first maxShown.

// maxAnswer bounds what is read of a destination's answer.
const maxAnswer = 64 << 10

// maxAnswerHeader bounds an answer's header block.
const maxAnswerHeader = 64 << 10

// httpTarget sends one channel's requests.
type httpTarget struct {
	client *http.Client
	ua     string
	// shownURL is the destination as errors show it (credentials and
	// secret path segments hidden).
	shownURL string
	scrub    scrubber
	now      func() time.Time
}

func newHTTPTarget(caFile string, insecure bool, o Options, shownURL string, secrets ...string) (*httpTarget, error) {
	tc, err := tlsConfig(caFile, insecure, "")
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{}).DialContext,
		TLSClientConfig:        tc,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxAnswerHeader,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &httpTarget{client: client, ua: o.userAgent(), shownURL: shownURL, scrub: newScrubber(secrets...), now: o.Now}, nil
}

// httpRequest is one request a channel makes.
type httpRequest struct {
	method string
	url    string
	body   []byte
	header http.Header
}

// httpAnswer is what came back: the status, the headers and the first
// maxAnswer bytes of the body.
type httpAnswer struct {
	status int
	header http.Header
	body   []byte
}

// send makes the request and judges the answer by its status (see check).
func (t *httpTarget) send(ctx context.Context, id string, req httpRequest) error {
	ans, err := t.do(ctx, id, req)
	if err == nil {
		err = t.check(req.method, ans)
	}
	return t.scrub.wrap(err)
}

// do makes one request. Its error is a failure to get any answer (refused,
// timed out, TLS), always worth retrying; an answer of any status is not
// an error here. The error never wraps *url.Error, whose text quotes the
// full URL.
func (t *httpTarget) do(ctx context.Context, id string, req httpRequest) (httpAnswer, error) {
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, bytes.NewReader(req.body))
	if err != nil {
		return httpAnswer{}, Permanent(fmt.Errorf("%s %s: bad request: %w", req.method, t.shownURL, unwrapURLError(err)))
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	hr.Header.Set("User-Agent", t.ua)
	if id != "" {
		hr.Header.Set("Idempotency-Key", id)
	}
	resp, err := t.client.Do(hr)
	if err != nil {
		return httpAnswer{}, fmt.Errorf("%s %s: %w", req.method, t.shownURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer)) // a broken body does not undo the status
	return httpAnswer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// unwrapURLError drops *url.Error's "Post \"https://...\": " prefix, which
// would quote the URL with its secrets.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// check judges an answer by its status: 2xx delivered; 3xx a permanent
// error (redirects are not followed); 408, 425, 429 and 5xx retried, with
// Retry-After when given; every other 4xx permanent.
func (t *httpTarget) check(method string, a httpAnswer) error {
	if a.status >= 200 && a.status <= 299 {
		return nil
	}
	return t.statusError(method, a, shown(a.body))
}

// statusError is the error of an answer that is not a success, quoting
// detail (part of the body, or a destination's own error description).
func (t *httpTarget) statusError(method string, a httpAnswer, detail string) error {
	msg := fmt.Sprintf("%s %s: HTTP %d", method, t.shownURL, a.status)
	if txt := http.StatusText(a.status); txt != "" {
		msg += " " + txt
	}
	if a.status >= 300 && a.status <= 399 {
		loc := shown([]byte(a.header.Get("Location")))
		if loc == "" {
			loc = "(no Location)"
		}
		return Permanent(fmt.Errorf("%s, redirected to %s: redirects are not followed; configure the final URL", msg, loc))
	}
	if detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	switch {
	case a.status == http.StatusRequestTimeout, a.status == http.StatusTooEarly:
		return err
	case a.status == http.StatusTooManyRequests, a.status >= 500:
		return withRetryAfter(err, parseRetryAfter(a.header.Get("Retry-After"), t.now()))
	case a.status >= 400:
		return Permanent(err)
	}
	return err
}
