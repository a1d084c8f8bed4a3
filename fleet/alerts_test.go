package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
)

// webhook is a receiver on 127.0.0.1 that keeps every alert it is sent.
type webhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []model.Alert
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var m model.AlertMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body: %v: %s", err, b)
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, m.Alerts...)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// find returns the first alert received with key and state.
func (w *webhook) find(key string, st model.AlertState) (model.Alert, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.alerts {
		if a.Key == key && a.State == st {
			return a, true
		}
	}
	return model.Alert{}, false
}

// TestHubAlerts_PerHost: an agent's check going down reaches the hub's
// alerter and a webhook gets an alert labelled host=web-1 (with the
// hello's labels, routed by them); the agent going silent gets a host
// alert for it; a reload of the hub's configuration resolves neither.
func TestHubAlerts_PerHost(t *testing.T) {
	dir := t.TempDir()
	hook := newWebhook(t)
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`checks: []
alerts:
  group_wait: 0s
  repeat_interval: 0s
  channels:
    - {name: hook, type: webhook, url: "%s"}
  routes:
    - checks: ["web"]
      channels: [hook]
    - rules: ["host.*"]
      channels: [hook]
fleet:
  unreachable_intervals: 3
  nats:
    embedded: {listen: "127.0.0.1:0", max_store: 64MB}
  stream: {max_bytes: 32MB}
  agents:
    - {host: web-1, password: %s}
`, hook.srv.URL, testPassword)), config.Options{ChannelTypes: channel.Types()})
	if err != nil {
		t.Fatal(err)
	}
	hubStore := openStore(t, filepath.Join(dir, "hub.db"))
	latest := state.New(cfg, time.Now())
	rec, err := flow.New(flow.Options{Store: hubStore, Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHub(HubOptions{Fleet: cfg.Fleet, Store: hubStore, Events: rec, DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runner := collectors.NewRunner(collectors.RunnerOptions{})
	al, err := alert.New(alert.Options{Store: hubStore, Recorder: rec, Events: rec.Subscribe("alerts", 1024), Latest: latest,
		Checks: runner, NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe,
		Host: "hub", Hosts: h.Registry(), Logger: testLogger(t).With("part", "alerts")})
	if err != nil {
		t.Fatal(err)
	}
	h.SetAlerts(al)
	runPart(t, al.Run)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	runPart(t, h.Run)
	a := startAgent(t, "web-1", []string{h.Embedded().ClientURL()}, t.TempDir())
	t0 := time.Now()
	a.sample(t, t0, 1)
	a.rec.Event(model.Event{Time: t0, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "HTTP 503"})

	var got model.Alert
	eventually(t, 20*time.Second, "web-1's check alert delivered", func() (bool, string) {
		var ok bool
		got, ok = hook.find("check:web@web-1", model.AlertFiring)
		return ok, ""
	})
	if got.Labels["host"] != "web-1" || got.Labels["check"] != "web" || got.Labels["env"] != "test" || got.Summary != "web is down" {
		t.Errorf("alert = %+v, want web down with host=web-1 and the hello's env=test", got)
	}
	// A reload (the hub's configuration has no check web) resolves nothing.
	rec.Event(model.Event{Time: time.Now(), Kind: model.EventReload, Reason: "test reload"})

	a.stop() // the agent goes silent
	a.nc.Close()
	eventually(t, 20*time.Second, "web-1 unreachable alert delivered", func() (bool, string) {
		var ok bool
		got, ok = hook.find("host:web-1", model.AlertFiring)
		return ok, ""
	})
	if got.Labels["host"] != "web-1" || got.Labels["rule"] != "host.unreachable" || got.Severity != config.SeverityCritical {
		t.Errorf("host alert = %+v, want host=web-1, rule host.unreachable, critical", got)
	}
	if _, resolved := hook.find("check:web@web-1", model.AlertResolved); resolved {
		t.Errorf("the reload resolved web-1's check alert")
	}
	if al.FiringCount() != 2 {
		t.Errorf("firing = %d, want 2 (web-1's check, web-1 unreachable)", al.FiringCount())
	}
}
