package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// TestUI_Chat: two independent users in one room see each other's messages,
// the sender's input clears, and HTML in a message is shown as text.
func TestUI_Chat(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	alice := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	bob := browsertest.NewIsolated(t, alice)
	for _, ctx := range []any{alice, bob} {
		_ = ctx
	}
	navigate(t, alice, st.url+"/chat/ops")
	connected(t, alice)
	navigate(t, bob, st.url+"/chat/ops")
	connected(t, bob)

	// Enter sends (the input sits in a form).
	if err := chromedp.Do(alice, chromedp.SendKeys(chromedp.CSS("#chat-input"), "hello from alice\r")); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, bob, "bob sees alice's message", `document.querySelector('#chat-log').textContent.includes('hello from alice')`)
	pollTrue(t, alice, "alice sees her message", `document.querySelector('#chat-log').textContent.includes('hello from alice')`)
	pollTrue(t, alice, "alice's input cleared", `document.querySelector('#chat-input').value === ''`)

	evil := `<script>window.__pwned=1</script><b id="bold">x</b>`
	if err := chromedp.Do(bob, chromedp.SendKeys(chromedp.CSS("#chat-input"), evil+"\r")); err != nil {
		t.Fatal(err)
	}
	for name, ctx := range map[string]any{"alice": alice, "bob": bob} {
		_ = name
		_ = ctx
	}
	pollTrue(t, alice, "the script message as text", `document.querySelector('#chat-log').textContent.includes('<script>window.__pwned=1</script>')`)
	if got := evalString(t, alice, `String(!!document.querySelector('#chat-log script') || !!document.querySelector('#bold') || !!window.__pwned)`); got != "false" {
		t.Fatal("HTML in a chat message was interpreted")
	}
	if !strings.Contains(evalString(t, alice, `document.querySelector('#chat-log').lastElementChild.textContent`), "guest-") {
		t.Error("the message has no author")
	}
	pollTrue(t, bob, "bob's input cleared", `document.querySelector('#chat-input').value === ''`)

	// A late joiner loads the history.
	carol := browsertest.NewIsolated(t, alice)
	navigate(t, carol, st.url+"/chat/ops")
	pollTrue(t, carol, "history on join", `document.querySelectorAll('#chat-log .msg').length === 2`)
	screenshot(t, carol, "chat-desktop-dark", 1440, 900, "dark")
}

// TestUI_ChatLimits: the server refuses an empty or over-long message with a
// message for the user, stores nothing, and keeps the input.
func TestUI_ChatLimits(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	tests := []struct {
		name, body, want string
	}{
		{"empty", `{"message":"   "}`, "Type a message first."},
		{"too long", `{"message":"` + strings.Repeat("é", 501) + `"}`, "Message too long: 501 characters, the limit is 500."},
		{"bad room", `{"message":"x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			room := "ops"
			if tt.name == "bad room" {
				room = "Not%20A%20Room"
			}
			req, _ := http.NewRequest("POST", st.url+"/chat/"+room+"/send", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Datastar-Request", "true")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.want == "" {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, want 400", resp.StatusCode)
				}
				return
			}
			if !strings.Contains(string(b), tt.want) || !strings.Contains(string(b), "datastar-merge-fragments") {
				t.Errorf("reply lacks %q:\n%s", tt.want, b)
			}
			if strings.Contains(string(b), `"message":""`) {
				t.Error("a refused message cleared the input")
			}
		})
	}
	if msgs, _ := st.db.ChatLatest("ops", 10); len(msgs) != 0 {
		t.Errorf("refused messages were stored: %v", msgs)
	}
}

// TestUI_StatusPoll: the header badge follows GET /api/status polling on a
// page without the dashboard stream (the chat page).
func TestUI_StatusPoll(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "", target.url)})
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	navigate(t, ctx, st.url+"/chat/ops")
	pollTrue(t, ctx, "badge all up", `document.querySelector('#status-badge').textContent.includes('All up')`)
	target.code.Store(500)
	pollTrue(t, ctx, "badge 1 down by polling", `document.querySelector('#status-badge').textContent.includes('1 down') && document.querySelector('#status-badge').classList.contains('st-down')`)
}

// TestUI_DashboardBadgeNotPolled: on the dashboard the header badge
// follows the stream, which carries it, and the page does not poll GET
// /api/status while the stream is live (an open tab's request every 5 s
// was a wake-up of its own for an idle dashd).
func TestUI_DashboardBadgeNotPolled(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "", target.url)})
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	// Count from here: before the stream was live the page may poll.
	evalString(t, ctx, `(performance.clearResourceTimings(), '')`)
	pollTrue(t, ctx, "badge all up", `document.querySelector('#status-badge').textContent.includes('All up')`)
	target.code.Store(500)
	pollTrue(t, ctx, "badge 1 down from the stream", `document.querySelector('#status-badge').textContent.includes('1 down')`)
	time.Sleep(6 * time.Second) // more than one poll interval
	polls := evalString(t, ctx, `String(performance.getEntriesByType('resource').filter(e => e.name.includes('/api/status')).length)`)
	if live := evalString(t, ctx, `String(!!document.querySelector('#conn.live'))`); live != "true" {
		t.Fatal("the stream dropped during the test: polling was allowed")
	}
	if polls != "0" {
		t.Errorf("the dashboard polled /api/status %s times while its stream was live", polls)
	}
}

// TestUI_RestartRestoresState: the server goes away and comes back (same
// port, same database); the open page reconnects by itself and shows the
// full current state, including what changed while it was away.
func TestUI_RestartRestoresState(t *testing.T) {
	target := newFlipServer(t)
	checks := httpCheckYAML("web", "", target.url)
	dir := t.TempDir()
	st := newTestStack(t, stackOptions{dir: dir, checks: checks})
	ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	pollTrue(t, ctx, "web up", `!!document.querySelector('#check-web.st-up')`)
	evalString(t, ctx, `(window.__marker = 'same-page', '')`)

	st.Close()
	pollTrue(t, ctx, "the page to notice", `!document.querySelector('#conn.live')`)
	target.code.Store(500)
	st2 := newTestStack(t, stackOptions{dir: dir, addr: st.addr, checks: checks})
	pollTrue(t, ctx, "reconnected", `!!document.querySelector('#conn.live')`)
	pollTrue(t, ctx, "the new state after restart", `!!document.querySelector('#check-web.st-down') && document.querySelector('#status-badge').textContent.includes('1 down')`)
	pollTrue(t, ctx, "events from before the restart", `document.querySelector('#events').textContent.includes('unknown → up')`)
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded instead of reconnecting")
	}
	_ = st2
}

// TestUI_CheckDetail: the check page shows uptime bars, the latency chart,
// results, and follows state changes through its room.
func TestUI_CheckDetail(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "frontend", target.url)})
	// A few results first, so the chart has a line.
	deadline := time.Now().Add(20 * time.Second)
	for {
		rs, _ := st.db.LastResults("web", 10)
		if len(rs) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	navigate(t, ctx, st.url+"/checks/web?range=1h")
	connected(t, ctx)
	pollTrue(t, ctx, "90 uptime bars", `document.querySelectorAll('#check-uptime .bars .bar').length === 90`)
	pollTrue(t, ctx, "today's bar is green", `document.querySelector('#check-uptime .bars .bar:last-child').classList.contains('u-good')`)
	pollTrue(t, ctx, "a latency line with axes", `(document.querySelector('#latency-chart path.line')?.getAttribute('d') || '').startsWith('M') && document.querySelectorAll('#latency-chart .chart-y span').length >= 2`)
	pollTrue(t, ctx, "results", `document.querySelectorAll('#check-results tbody tr').length >= 3`)
	screenshot(t, ctx, "check-desktop-light", 1440, 900, "light")
	screenshot(t, ctx, "check-phone-dark", 390, 844, "dark")

	target.code.Store(500)
	pollTrue(t, ctx, "the page follows the state change", `document.querySelector('#check-summary').classList.contains('st-down') && document.querySelector('#check-events').textContent.includes('up → down')`)

	code, _ := st.get("/checks/nope")
	if code != http.StatusNotFound {
		t.Errorf("unknown check: status %d, want 404", code)
	}
	_ = fmt.Sprint()
}

// TestWrites_RefuseCrossSite: a page on another site can make a browser POST
// a text/plain form, but cannot add Datastar-Request without a preflight, and
// the browser marks it cross-site.
func TestWrites_RefuseCrossSite(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"plain form post", map[string]string{"Content-Type": "text/plain"}, http.StatusForbidden},
		{"cross-site with header", map[string]string{"Datastar-Request": "true", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-origin Datastar", map[string]string{"Datastar-Request": "true", "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", st.url+"/chat/ops/send", strings.NewReader(`{"message":"csrf"}`))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestBadRequests_ClearErrors(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	tests := []struct {
		method, path string
		want         int
		msg          string
	}{
		{"GET", "/checks/web?range=bogus", http.StatusBadRequest, `range: "bogus" is not one of 1h, 24h, 7d or 30d`},
		{"HEAD", "/api/events", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, st.url+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.msg) {
				t.Fatalf("%s %s = %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, b, tt.want, tt.msg)
			}
		})
	}
}

// TestUI_DisplayNameIsText: a display name that looks like a Datastar
// expression comes back exactly as typed, after saving and after a reload;
// the pinned client rewrites $name and @name( inside signals, so the name
// must never travel as one.
func TestUI_DisplayNameIsText(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	navigate(t, ctx, st.url+"/chat/ops")
	connected(t, ctx)
	const name = `@get('//x/n4') $x`
	evalString(t, ctx, `(()=>{const i=document.querySelector('#display-name'); i.value=''; i.dispatchEvent(new Event('input')); return ''})()`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#display-name"), name+"\r")); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%q", name)
	pollTrue(t, ctx, "the name saved", `document.querySelector('#session-name').textContent === `+want)
	navigate(t, ctx, st.url+"/chat/ops")
	connected(t, ctx)
	if got := evalString(t, ctx, `document.querySelector('#display-name').value`); got != name {
		t.Fatalf("after reload the name field holds %q, want %q", got, name)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#chat-input"), "hi\r")); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ctx, "the message under the name as typed", `document.querySelector('#chat-log').lastElementChild?.textContent.includes(`+want+`)`)
}
