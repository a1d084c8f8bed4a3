package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHub_OwnAlertsCarryFleetHost: on a hub with fleet.host set, its own
// check's alert is about that host (its fleet pages' name for it, not the
// machine's host name), so a route's hosts: glob on that name delivers it.
func TestHub_OwnAlertsCarryFleetHost(t *testing.T) {
	const fleetHost = "hub-named-1"
	if h, _ := os.Hostname(); h == fleetHost {
		t.Skipf("the machine is called %s: the test cannot tell the names apart", fleetHost)
	}
	dir := t.TempDir()
	hook := newAlertHook(t)
	closed := freeAddr(t) // nothing listens there: the check fails
	cfg := writeConfigHead(t, dir, alertsHead, fmt.Sprintf(`checks:
  - name: web
    type: tcp
    address: %s
    interval: 1s
    fail_after: 1
alerts:
  group_wait: 0s
  channels:
    - name: hook
      type: webhook
      url: %s
  routes:
    - checks: ["*"]
      hosts: ["hub-named-*"]
      channels: [hook]
fleet:
  host: %s
  nats:
    embedded:
      listen: %s
      max_store: 64MB
  stream:
    max_bytes: 32MB
`, closed, hook.url("/by-host"), fleetHost, freeAddr(t)))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))

	waitFor(t, 60*time.Second, "web's alert delivered by the hosts: route", func() bool {
		return len(alertsIn(hook.accepted("/by-host"), "web")) > 0
	})
	for _, r := range hook.accepted("/by-host") {
		for _, a := range r.Doc.Alerts {
			if a.Labels["host"] != fleetHost {
				t.Errorf("alert %s delivered with host %q, want %q", a.Key, a.Labels["host"], fleetHost)
			}
		}
	}
	if a, ok := firingAlerts(t, d)["web"]; !ok || a.Labels["host"] != fleetHost {
		t.Errorf("firing web alert %+v (found %v), want host %q", a, ok, fleetHost)
	}
	d.stop()
}
