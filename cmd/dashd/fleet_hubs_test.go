package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const hubsTestPassword = "correct-horse-battery"

// postChat sends a chat message as the chat page does and fails the test
// unless it was taken.
func postChat(t *testing.T, d *child, room, text string) {
	t.Helper()
	resp, body := send(t, http.DefaultClient, "POST", d.url("/chat/"+room+"/send"), []byte(fmt.Sprintf(`{"message":%q}`, text)),
		map[string]string{"Datastar-Request": "true", "Content-Type": "application/json"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat send on %s = %d: %s", d.addr, resp.StatusCode, body)
	}
}

// chatPageCount is how many times text appears on d's chat page of room
// (its stored history).
func chatPageCount(t *testing.T, d *child, room, text string) int {
	t.Helper()
	resp, body := get(t, d.url("/chat/"+room))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /chat/%s = %d", room, resp.StatusCode)
	}
	return strings.Count(string(body), text)
}

// TestFleetHubs_ChatIsOneSite: two hub daemons on one NATS (hub a's
// embedded server; hub b signs in with a's fleet.hubs credentials). A
// chat message sent on a appears live on b's open chat stream and in b's
// history, once; b restarted still shows it once, and a message sent
// while b was down arrives when b is back.
func TestFleetHubs_ChatIsOneSite(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nats := freeAddr(t)
	cfgA := writeConfig(t, filepath.Join(dir, "a"), fmt.Sprintf(`fleet:
  name: hub-a
  nats:
    embedded:
      listen: %s
      max_store: 64MB
  stream:
    max_bytes: 32MB
  hubs:
    - host: hub-b
      password: %s
`, nats, hubsTestPassword))
	cfgB := writeConfig(t, filepath.Join(dir, "b"), fmt.Sprintf(`fleet:
  name: hub-b
  nats:
    urls: [nats://%s]
    user: hub-b
    password: %s
  stream:
    max_bytes: 32MB
`, nats, hubsTestPassword))
	a := startDaemon(t, "--config", cfgA, "--data", filepath.Join(dir, "a", "dashd.db"))
	dataB := filepath.Join(dir, "b", "dashd.db")
	b := startDaemon(t, "--config", cfgB, "--data", dataB)

	live := openStreamWith(t, http.DefaultClient, b.url("/chat/ops/connect"))
	waitFor(t, 20*time.Second, "b's chat stream sends its state", func() bool { return live.contains("chat-log") })
	joined := live.size()

	first := fmt.Sprintf("first-from-hub-a-%d", time.Now().UnixNano())
	postChat(t, a, "ops", first)
	waitFor(t, 30*time.Second, "a's message live on b's stream", func() bool { return strings.Contains(live.since(joined), first) })
	if got := live.since(joined); !strings.Contains(got, "mergeMode append") {
		t.Errorf("b's stream got the message but not as an append to the log:\n%s", got)
	}
	if n := chatPageCount(t, b, "ops", first); n != 1 {
		t.Errorf("b's history shows a's message %d times, want 1", n)
	}
	if n := chatPageCount(t, a, "ops", first); n != 1 {
		t.Errorf("a's history shows its own message %d times, want 1 (a hub skips its own actions)", n)
	}

	b.cmd.Process.Signal(syscall.SIGTERM)
	if code := b.wait(20 * time.Second); code != 0 {
		t.Fatalf("hub b exit = %d, want 0\n%s", code, b.output())
	}
	second := fmt.Sprintf("second-while-b-was-down-%d", time.Now().UnixNano())
	postChat(t, a, "ops", second)

	b = startDaemon(t, "--config", cfgB, "--data", dataB)
	waitFor(t, 30*time.Second, "the message sent while b was down, on b", func() bool { return chatPageCount(t, b, "ops", second) == 1 })
	time.Sleep(time.Second) // room for a wrong redelivery to land
	for _, text := range []string{first, second} {
		if n := chatPageCount(t, b, "ops", text); n != 1 {
			t.Errorf("restarted b shows %q %d times, want 1", text, n)
		}
	}

	// And b's own chat reaches a.
	third := fmt.Sprintf("third-from-hub-b-%d", time.Now().UnixNano())
	postChat(t, b, "ops", third)
	waitFor(t, 30*time.Second, "b's message on a", func() bool { return chatPageCount(t, a, "ops", third) == 1 })
}

// startAgentDaemon runs `dashd agent` with the configuration cfg and
// data file data (it has no HTTP listener); it is killed at cleanup.
func startAgentDaemon(t *testing.T, cfg, data string) *child {
	t.Helper()
	d := &child{t: t, done: make(chan struct{})}
	d.cmd = exec.Command(dashdBin, "agent", "--config", cfg, "--data", data)
	d.cmd.Stdout, d.cmd.Stderr = d, d
	d.cmd.Env = append(os.Environ(), "DASHD_CONFIG=")
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("dashd agent output:\n%s", d.output())
		}
	})
	return d
}

// TestFleetHubs_AckIsOneSite: an agent's check fails; both hub daemons
// read it, so each opens its own incident about "web@web-1"; an
// acknowledgement on a's incident shows on b's (through b's incident
// API), once, and a does not get it back. (A check of a hub's own is
// that hub's alone: fleet's TestActions_OwnIncidentsStayOwn.)
func TestFleetHubs_AckIsOneSite(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b", "agent"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	closed := freeAddr(t) // nothing listens there: the agent's check fails
	check := fmt.Sprintf("checks:\n  - name: web\n    type: tcp\n    address: %s\n    interval: 1s\n", closed)
	nats := freeAddr(t)
	cfgA := writeConfig(t, filepath.Join(dir, "a"), fmt.Sprintf(`fleet:
  name: hub-a
  nats:
    embedded:
      listen: %s
      max_store: 64MB
  stream:
    max_bytes: 32MB
  agents:
    - host: web-1
      password: %s
  hubs:
    - host: hub-b
      password: %s
`, nats, hubsTestPassword, hubsTestPassword))
	cfgB := writeConfig(t, filepath.Join(dir, "b"), fmt.Sprintf(`fleet:
  name: hub-b
  nats:
    urls: [nats://%s]
    user: hub-b
    password: %s
  stream:
    max_bytes: 32MB
`, nats, hubsTestPassword))
	cfgAgent := writeConfig(t, filepath.Join(dir, "agent"), check+fmt.Sprintf(`fleet:
  host: web-1
  nats:
    urls: [nats://%s]
    user: web-1
    password: %s
`, nats, hubsTestPassword))
	a := startDaemon(t, "--config", cfgA, "--data", filepath.Join(dir, "a", "dashd.db"))
	b := startDaemon(t, "--config", cfgB, "--data", filepath.Join(dir, "b", "dashd.db"))
	startAgentDaemon(t, cfgAgent, filepath.Join(dir, "agent", "dashd.db"))

	openID := func(d *child) string {
		var id string
		waitFor(t, 30*time.Second, "an open incident on "+d.addr, func() bool {
			resp, body := get(t, d.url("/api/v1/incidents?state=open"))
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "web@web-1") {
				return false
			}
			_, rest, ok := strings.Cut(string(body), `"id":`)
			if !ok {
				return false
			}
			id, _, _ = strings.Cut(rest, ",")
			return true
		})
		return id
	}
	idA, idB := openID(a), openID(b)
	resp, body := send(t, http.DefaultClient, "POST", a.url("/incidents/"+idA+"/ack"), []byte(`{}`),
		map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("ack on a = %d: %s", resp.StatusCode, body)
	}
	acks := func(d *child, id string) int {
		resp, body := get(t, d.url("/api/v1/incidents/"+id))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET incident %s on %s = %d", id, d.addr, resp.StatusCode)
		}
		return strings.Count(string(body), `"kind":"ack"`)
	}
	waitFor(t, 30*time.Second, "a's acknowledgement on b's incident", func() bool { return acks(b, idB) == 1 })
	time.Sleep(time.Second) // room for a wrong echo or redelivery
	if n := acks(b, idB); n != 1 {
		t.Errorf("b's incident holds %d acknowledgements, want 1", n)
	}
	if n := acks(a, idA); n != 1 {
		t.Errorf("a's incident holds %d acknowledgements, want its own once", n)
	}
}
