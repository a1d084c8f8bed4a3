package main

// The hub of `dashd-bench fleet`: the real dashd binary as `dashd serve`
// with a fleet: section (embedded NATS on a free loopback port, one
// agents entry per simulated host with its own password) and a webhook
// channel taking every alert to the bench's receiver.

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dashd/dashd/model"
)

// realAgentHost is the real `dashd agent` of the footprint phase.
const realAgentHost = "real-agent"

// fleetHubConfig is the hub's configuration: the fleet with n simulated
// agents and the real one, and every alert to hook's /ops.
func fleetHubConfig(natsAddr string, n int, hook *alertHook) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fleet:\n  nats:\n    embedded:\n      listen: %s\n  agents:\n", natsAddr)
	for i := range n {
		h := simHost(i)
		fmt.Fprintf(&b, "    - {host: %s, password: %s}\n", h, simPassword(h))
	}
	fmt.Fprintf(&b, "    - {host: %s, password: %s}\n", realAgentHost, simPassword(realAgentHost))
	b.WriteString(alertWebhooks(hook, "", "/ops"))
	// Hosts' unreachable alerts (rule host.unreachable) and host rules.
	b.WriteString("    - rules: [\"*\"]\n      channels: [ops]\n")
	return b.String()
}

// fleetHost is what the bench reads of /api/v1/hosts.
type fleetHost struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`
	LastSeen time.Time `json:"last_seen_at"`
}

func hubHosts(d *alertDaemon) (map[string]fleetHost, error) {
	var v struct {
		Hosts []fleetHost `json:"hosts"`
	}
	if err := d.getJSON("/api/v1/hosts", &v); err != nil {
		return nil, err
	}
	out := make(map[string]fleetHost, len(v.Hosts))
	for _, h := range v.Hosts {
		out[h.Name] = h
	}
	return out, nil
}

// hostCheckState reads a host's check through the host-scoped checks
// route the fleet issue names (/api/v1/hosts/{host}/checks); ok false
// while the hub has no such route (404).
func hostCheckState(d *alertDaemon, host, check string) (st model.State, found bool, err error) {
	resp, err := http.Get(d.base + "/api/v1/hosts/" + host + "/checks")
	if err != nil {
		return st, false, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return st, false, nil
	}
	var v struct {
		Checks []struct {
			Name  string      `json:"name"`
			State model.State `json:"state"`
		} `json:"checks"`
	}
	if err = d.getJSON("/api/v1/hosts/"+host+"/checks", &v); err != nil {
		return st, true, err
	}
	for _, c := range v.Checks {
		if c.Name == check {
			return c.State, true, nil
		}
	}
	return st, true, nil
}

// waitPort waits until addr accepts TCP connections.
func waitPort(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded NATS on %s: %w", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// diskUse is the hub's files: the history database and JetStream's
// store, in bytes allocated on disk (bbolt grows its file in large sparse
// steps, so the allocated blocks follow what was written).
type diskUse struct{ db, nats int64 }

func hubDisk(dir string) diskUse {
	var u diskUse
	u.db = allocated(filepath.Join(dir, "dashd.db"))
	_ = filepath.WalkDir(filepath.Join(dir, "nats"), func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			u.nats += allocated(p)
		}
		return nil
	})
	return u
}

func allocated(path string) int64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	return st.Blocks * 512
}
