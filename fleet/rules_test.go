package fleet

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
)

// agentRulesConfig is an agent's configuration with one rule this machine
// surely crosses (memory available above 0%, at once) or, with above 101,
// surely does not.
func agentRulesConfig(t *testing.T, above int) *config.Config {
	t.Helper()
	cfg, err := config.Parse("agent.yaml", []byte(fmt.Sprintf(`checks: []
alerts:
  rules:
    - {name: mem-any, metric: memory_available, above: %d, for: 0s, severity: warning}
`, above)), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startRuleAgent is a real agent with its rules: its own storage and
// spool, the real host sampler every 200 ms, the flow teed to the
// publisher, and AgentRules evaluating the rules of cfg. It returns the
// agent's latest state (a reload sets a new configuration there).
func startRuleAgent(t *testing.T, host string, urls []string, cfg *config.Config) *state.Latest {
	t.Helper()
	dir := t.TempDir()
	opts, err := ConnectOptions(config.FleetNATS{URLs: urls, User: host, Password: testPassword}, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Connect(urls, append(opts, nats.ReconnectWait(100*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sp, err := OpenSpool(filepath.Join(dir, "spool.db"), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	db := openStore(t, filepath.Join(dir, "agent.db"))
	latest := state.New(cfg, time.Now())
	tee := &lateStore{}
	rec, err := flow.New(flow.Options{Store: tee, Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := NewPublisher(PublisherOptions{Conn: nc, Spool: sp, Events: rec.Subscribe("fleet", 4096),
		Hello: Hello{Host: host, OS: "linux", Version: "test", Labels: map[string]string{"env": "test"}, IntervalMs: 200},
		Retry: 100 * time.Millisecond, Timeout: 2 * time.Second, Logger: testLogger(t).With("agent", host)})
	if err != nil {
		t.Fatal(err)
	}
	tee.Store = pub.Tee(db)
	rules, err := alert.NewAgentRules(alert.AgentRulesOptions{Store: db, Latest: latest, Recorder: rec, Host: host,
		Logger: testLogger(t).With("agent", host, "part", "rules")})
	if err != nil {
		t.Fatal(err)
	}
	sampler := system.NewRunner(system.Options{Interval: 200 * time.Millisecond, TopN: -1, Logger: testLogger(t)}, rec.Sample)
	// Stopped in reverse: the sampler, the rules, then the publisher.
	runPart(t, pub.Run)
	runPart(t, rules.Run)
	runPart(t, sampler.Run)
	return latest
}

// TestHubAlerts_AgentRule: a host metric rule the agent evaluates on its
// own samples fires; the hub delivers it as web-1's alert (host label,
// the hello's labels) to the route for hosts web-*, not to the one for
// env staging; when the agent's reloaded rule no longer holds, the agent
// resolves it and the hub delivers the resolution.
func TestHubAlerts_AgentRule(t *testing.T) {
	dir := t.TempDir()
	web, staging := newWebhook(t), newWebhook(t)
	cfg, err := config.Parse("hub.yaml", []byte(fmt.Sprintf(`checks: []
alerts:
  group_wait: 0s
  repeat_interval: 0s
  channels:
    - {name: web-team, type: webhook, url: "%s"}
    - {name: staging-team, type: webhook, url: "%s"}
  routes:
    - hosts: ["web-*"]
      channels: [web-team]
    - labels: {env: staging}
      channels: [staging-team]
fleet:
  unreachable_intervals: 50
  nats:
    embedded: {listen: "127.0.0.1:0", max_store: 64MB}
  stream: {max_bytes: 32MB}
  agents:
    - {host: web-1, password: %s}
`, web.srv.URL, staging.srv.URL, testPassword)), config.Options{ChannelTypes: channel.Types()})
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
	al, err := alert.New(alert.Options{Store: hubStore, Recorder: rec, Events: rec.Subscribe("alerts", 1024), Latest: latest,
		Checks: collectors.NewRunner(collectors.RunnerOptions{}), Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter,
		NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Describe:  channel.Describe, Host: "hub", Hosts: h.Registry(), Logger: testLogger(t).With("part", "alerts")})
	if err != nil {
		t.Fatal(err)
	}
	h.SetAlerts(al)
	runPart(t, al.Run)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	runPart(t, h.Run)

	agentLatest := startRuleAgent(t, "web-1", []string{h.Embedded().ClientURL()}, agentRulesConfig(t, 0))
	const key = "rule:mem-any@web-1"
	var got model.Alert
	eventually(t, 30*time.Second, "web-1's rule alert delivered", func() (bool, string) {
		var ok bool
		got, ok = web.find(key, model.AlertFiring)
		return ok, ""
	})
	if got.Labels["host"] != "web-1" || got.Labels["rule"] != "mem-any" || got.Labels["env"] != "test" ||
		got.Severity != config.SeverityWarning || got.Name != "mem-any" || got.Summary == "" {
		t.Errorf("alert = %+v; want mem-any (warning) with host=web-1 and the hello's env=test", got)
	}

	agentLatest.SetConfig(agentRulesConfig(t, 101)) // a reload: memory is never above 101%
	eventually(t, 30*time.Second, "web-1's rule alert resolved", func() (bool, string) {
		_, ok := web.find(key, model.AlertResolved)
		return ok, ""
	})
	if al.FiringCount() != 0 {
		t.Errorf("%d alerts fire after the resolution, want none", al.FiringCount())
	}
	staging.mu.Lock()
	defer staging.mu.Unlock()
	if len(staging.alerts) != 0 {
		t.Errorf("staging-team got %+v; web-1 is env test, not staging", staging.alerts)
	}
}
