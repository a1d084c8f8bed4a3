package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// TestUI_Alerts: the alerts page in a real browser. A silence created with
// the form shows at once and on a second browser's page live, and holds
// back the firing alert it matches; expiring it takes it away; "Send test
// message" reaches the channel and shows as a delivery.
func TestUI_Alerts(t *testing.T) {
	var got atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"test":true`) {
			got.Add(1)
		}
	}))
	defer rcv.Close()
	target := newFlipServer(t)
	target.code.Store(500)
	head := "alerts:\n  group_wait: 0s\n  channels:\n    - name: ops-hook\n      type: webhook\n      url: " + rcv.URL + "/hook\n  routes:\n    - channels: [ops-hook]\n"
	chk := httpCheckYAML("web", "", target.url)
	st := newTestStack(t, stackOptions{head: head, checks: chk})

	ann := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
	bob := browsertest.NewIsolated(t, ann)
	navigate(t, ann, st.url+"/alerts")
	connected(t, ann)
	navigate(t, bob, st.url+"/alerts")
	connected(t, bob)
	pollTrue(t, ann, "web fires", `document.querySelector('#alerts-firing').textContent.includes('web is down')`)

	// A silence from the form.
	for sel, text := range map[string]string{"#sil-checks": "web", "#sil-comment": "deploying"} {
		if err := chromedp.Do(ann, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ann, chromedp.Click(chromedp.CSS(".silence-form button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ann, "the silence listed", `document.querySelector('#alerts-silences').textContent.includes('checks web')`)
	pollTrue(t, bob, "the silence live on another browser", `document.querySelector('#alerts-silences').textContent.includes('deploying')`)
	pollTrue(t, bob, "the alert marked held", `document.querySelector('#alerts-firing').textContent.includes('held: silence')`)
	navigate(t, ann, st.url+"/")
	connected(t, ann)
	pollTrue(t, ann, "the tile says silenced", `document.querySelector('#check-web .held')?.textContent === 'silenced'`)

	// Expire it from the other browser.
	if err := chromedp.Do(bob, chromedp.Click(chromedp.CSS("#alerts-silences button"))); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, bob, "the silence gone", `document.querySelector('#alerts-silences').textContent.includes('No silences')`)

	// Test message.
	if err := chromedp.Do(bob, chromedp.Click(chromedp.CSS("#channel-ops-hook button"))); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, bob, "the test delivery listed", `document.querySelector('#alerts-deliveries').textContent.includes('test message')`)
	if got.Load() < 1 {
		t.Fatal("the receiver got no test message")
	}
	screenshot(t, bob, "alerts-desktop-light", 1440, 900, "light")
}
