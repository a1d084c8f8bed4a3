package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestAlertmanager_Request(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: alertmanager\n      url: "+rc.URL+"/prefix/\n      token: am-token-1\n      labels: {team: ops, host: overridden}\n", testOptions())
	m := mixedAlerts()
	m.Alerts[1].Labels["bad-name"] = "x"
	m.Alerts[1].Labels["empty"] = ""
	if err := send(t, s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := rc.only(t)
	if r.Method != http.MethodPost || r.Path != "/prefix/api/v2/alerts" {
		t.Errorf("request %s %s, want POST /prefix/api/v2/alerts", r.Method, r.Path)
	}
	checkHeader(t, r.Header, "Authorization", "Bearer am-token-1")
	checkHeader(t, r.Header, "Content-Type", "application/json")
	// endsAt of the firing alert: the fixed clock + 4 x 4h.
	golden.Assert(t, "alertmanager_mixed.json", indentJSON(t, r.Body))
}

func TestAlertmanager_Window(t *testing.T) {
	tests := []struct {
		repeat, want time.Duration
	}{
		{0, time.Hour},
		{10 * time.Minute, time.Hour},
		{4 * time.Hour, 16 * time.Hour},
	}
	for _, tt := range tests {
		if got := AlertmanagerWindow(tt.repeat); got != tt.want {
			t.Errorf("AlertmanagerWindow(%s) = %s, want %s", tt.repeat, got, tt.want)
		}
	}
}

func TestAlertmanager_TestMessage(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: alertmanager\n      url: "+rc.URL+"\n", testOptions())
	if err := send(t, s, model.AlertMessage{ID: "t", Host: "db-1", Test: true, Time: t0}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got []amAlert
	if err := json.Unmarshal(rc.only(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	want := fixedNow().Add(testAlertWindow).UTC().Format(time.RFC3339Nano)
	if len(got) != 1 || got[0].Labels["alertname"] != "dashd_test" || got[0].Labels["host"] != "db-1" || got[0].EndsAt != want {
		t.Errorf("test alert %+v, want alertname dashd_test on db-1 ending %s", got, want)
	}
	// A message with nothing to say sends nothing.
	if err := send(t, s, model.AlertMessage{ID: "e", Host: "db-1", Time: t0}); err != nil || len(rc.requests()) != 1 {
		t.Errorf("empty message: err %v, %d requests; want none sent", err, len(rc.requests()))
	}
}

// realAlertmanager starts Debian's prometheus-alertmanager on a free
// loopback port, routing every alert to hook, and returns its base URL.
func realAlertmanager(t *testing.T, hook string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("DASHD_REQUIRE_ALERTMANAGER") == "1" {
			t.Fatalf("prometheus-alertmanager not found and DASHD_REQUIRE_ALERTMANAGER=1: %v", err)
		}
		t.Skip("SKIPPED: prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); " +
			"set DASHD_REQUIRE_ALERTMANAGER=1 to fail instead")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/am
        send_resolved: true
`, hook)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := closedPort(t)
	var out lockedBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready on %s after 60s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gettableAlert is what GET /api/v2/alerts lists.
type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

func listAlerts(t *testing.T, base string) []gettableAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	return out
}

func findAlert(list []gettableAlert, name string) (gettableAlert, bool) {
	for _, a := range list {
		if a.Labels["alertname"] == name {
			return a, true
		}
	}
	return gettableAlert{}, false
}

func TestAlertmanager_RealServer(t *testing.T) {
	hook := newReceiver(t, nil)
	base := realAlertmanager(t, hook.URL)
	o := testOptions()
	o.Now = nil // Alertmanager judges endsAt by its own clock
	s := mustSender(t, "      type: alertmanager\n      url: "+base+"\n      labels: {team: ops}\n", o)

	m := oneAlert()
	now := time.Now().UTC().Truncate(time.Second)
	m.Alerts[0].StartsAt = now.Add(-time.Minute)
	if err := send(t, s, m); err != nil {
		t.Fatalf("Send firing: %v", err)
	}
	got, ok := findAlert(listAlerts(t, base), "web")
	if !ok {
		t.Fatalf("alert web not listed: %+v", listAlerts(t, base))
	}
	wantLabels := map[string]string{"alertname": "web", "host": "db-1", "check": "web", "group": "shop", "type": "http",
		"severity": "critical", "dashd_source": "check", "team": "ops"}
	for k, v := range wantLabels {
		if got.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, got.Labels[k], v, got.Labels)
		}
	}
	if len(got.Labels) != len(wantLabels) {
		t.Errorf("labels %v, want exactly %v", got.Labels, wantLabels)
	}
	wantAnn := map[string]string{"summary": "web is down", "description": "HTTP 503 <Service Unavailable> & more", "dashd_url": "https://dash.example.org/checks/web"}
	for k, v := range wantAnn {
		if got.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
		}
	}
	if got.Status.State != "active" || !got.StartsAt.Equal(m.Alerts[0].StartsAt) || got.GeneratorURL != "https://dash.example.org/checks/web" {
		t.Errorf("state %q, startsAt %s, generatorURL %q", got.Status.State, got.StartsAt, got.GeneratorURL)
	}
	if w := got.EndsAt.Sub(now); w < 15*time.Hour || w > 17*time.Hour {
		t.Errorf("endsAt %s is %s ahead, want about 16h (4 x repeat_interval)", got.EndsAt, w)
	}
	waitHook(t, hook, `"status":"firing"`)

	// The same alert resolved ends it.
	m.ID = "dashd-db-1-hook-18-18"
	m.Alerts[0].State = model.AlertResolved
	m.Alerts[0].EndsAt = time.Now().UTC().Add(-time.Second)
	if err := send(t, s, m); err != nil {
		t.Fatalf("Send resolved: %v", err)
	}
	// Alertmanager lists only alerts that have not ended.
	if a, ok := findAlert(listAlerts(t, base), "web"); ok {
		t.Errorf("alert still listed after the resolved message: %+v", a)
	}
	waitHook(t, hook, `"status":"resolved"`)
}

// waitHook waits until Alertmanager's webhook delivered a notification
// containing want.
func waitHook(t *testing.T, hook *receiver, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		for _, r := range hook.requests() {
			if strings.Contains(string(r.Body), want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("Alertmanager did not notify %s within 60s (got %d notifications)", want, len(hook.requests()))
}
