package main

// The parts `dashd-bench alerts` runs against: a webhook receiver, the
// target the checks watch, and a dashd child it can kill and restart.
// Everything listens on 127.0.0.1.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dashd/dashd/model"
)

// alertHookMessage is what the receiver reads of a webhook's JSON document.
type alertHookMessage struct {
	ID       string        `json:"id"`
	Alerts   []model.Alert `json:"alerts"`
	Reminder bool          `json:"reminder"`
	Test     bool          `json:"test"`
}

// alertHookRecord is one request the receiver got and what it answered.
type alertHookRecord struct {
	at     time.Time
	path   string
	key    string // Idempotency-Key
	status int
	msg    alertHookMessage
}

// alertHook is a webhook receiver that records every request. It can be
// down (listener closed, connections refused) and come back on the same
// address.
type alertHook struct {
	addr string

	mu   sync.Mutex
	srv  *http.Server
	reqs []alertHookRecord
}

func newAlertHook() (*alertHook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	h := &alertHook{addr: ln.Addr().String()}
	h.serve(ln)
	return h, nil
}

func (h *alertHook) url(path string) string { return "http://" + h.addr + path }

func (h *alertHook) serve(ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(ln)
}

func (h *alertHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := alertHookRecord{at: time.Now(), path: r.URL.Path, key: r.Header.Get("Idempotency-Key"), status: http.StatusOK}
	if err := json.Unmarshal(body, &rec.msg); err != nil {
		rec.status = http.StatusBadRequest
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, rec)
	h.mu.Unlock()
	w.WriteHeader(rec.status)
}

// down closes the listener and every open connection.
func (h *alertHook) down() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (h *alertHook) up() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", h.addr)
		if err == nil {
			h.serve(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("receiver: listen again on %s: %w", h.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// accepted returns the requests on path answered 2xx, in arrival order.
func (h *alertHook) accepted(path string) []alertHookRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []alertHookRecord
	for _, r := range h.reqs {
		if r.status < 300 && r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// alertTarget is what the checks watch: GET /c/NAME answers 500 while
// NAME is down, 200 otherwise.
type alertTarget struct {
	srv  *http.Server
	addr string

	mu    sync.Mutex
	down  map[string]bool
	flips map[string][]time.Time // when each check's answer changed
}

func newAlertTarget() (*alertTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	bt := &alertTarget{addr: ln.Addr().String(), down: map[string]bool{}, flips: map[string][]time.Time{}}
	bt.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/c/")
		bt.mu.Lock()
		down := bt.down[name]
		bt.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, `{"status":"ok"}`)
	})}
	go bt.srv.Serve(ln)
	return bt, nil
}

func (bt *alertTarget) close() { bt.srv.Close() }

// set makes the named checks' answers fail (down) or succeed.
func (bt *alertTarget) set(down bool, names ...string) {
	now := time.Now()
	bt.mu.Lock()
	defer bt.mu.Unlock()
	for _, n := range names {
		if bt.down[n] != down {
			bt.flips[n] = append(bt.flips[n], now)
		}
		bt.down[n] = down
	}
}

// toggle flips one check's answer.
func (bt *alertTarget) toggle(name string) {
	bt.mu.Lock()
	down := !bt.down[name]
	bt.mu.Unlock()
	bt.set(down, name)
}

// flipBefore is the last time name's answer changed at or before t.
func (bt *alertTarget) flipBefore(name string, t time.Time) (time.Time, bool) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	var last time.Time
	for _, f := range bt.flips[name] {
		if f.After(t) {
			break
		}
		last = f
	}
	return last, !last.IsZero()
}

// checksYAML is a checks section: one http check per name against the
// target, down after one failure.
func (bt *alertTarget) checksYAML(interval time.Duration, names []string) string {
	var b strings.Builder
	b.WriteString("checks:\n")
	timeout := min(interval*8/10, 5*time.Second)
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    type: http\n    url: http://%s/c/%s\n    interval: %s\n    timeout: %s\n    fail_after: 1\n",
			n, bt.addr, n, interval, timeout)
	}
	return b.String()
}

func alertCheckNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// alertWebhooks is an alerts section sending every check to one webhook
// channel per path (named after it), with extra alerts keys first.
func alertWebhooks(h *alertHook, extra string, paths ...string) string {
	var b strings.Builder
	b.WriteString("alerts:\n" + extra + "  channels:\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "    - name: %s\n      type: webhook\n      url: %s\n      max_per_hour: 10000\n", strings.Trim(p, "/"), h.url(p))
	}
	b.WriteString("  routes:\n    - checks: [\"*\"]\n      channels: [")
	for i, p := range paths {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.Trim(p, "/"))
	}
	b.WriteString("]\n")
	return b.String()
}

// alertDaemon is a dashd child on a data file that outlives it.
type alertDaemon struct {
	bin, cfg, data string
	log            io.Writer
	base           string
	cmd            *exec.Cmd
	done           chan struct{}
}

// startAlertDaemon writes cfg into dir and starts bin on it.
func startAlertDaemon(bin, dir, cfg string, log io.Writer) (*alertDaemon, error) {
	path := filepath.Join(dir, "config.yaml")
	head := "collect:\n  interval: 1s\n  process_interval: 5s\n"
	if err := os.WriteFile(path, []byte(head+cfg), 0o644); err != nil {
		return nil, err
	}
	d := &alertDaemon{bin: bin, cfg: path, data: filepath.Join(dir, "dashd.db"), log: log}
	return d, d.start()
}

// start runs the binary on a free port and waits for it to answer.
func (d *alertDaemon) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	d.base = "http://" + addr
	d.cmd = exec.Command(d.bin, "--config", d.cfg, "--data", d.data, "--listen", addr)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.Env = append(os.Environ(), "DASHD_CONFIG=")
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", d.bin, err)
	}
	d.done = make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("%s exited at start: %s", d.bin, d.cmd.ProcessState)
		default:
		}
		if resp, err := http.Get(d.base + "/healthz"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.kill()
	return errors.New("dashd did not answer within 30s")
}

// kill ends the process with SIGKILL and waits for it.
func (d *alertDaemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop asks for a clean stop (SIGTERM) and requires exit status 0.
func (d *alertDaemon) stop() error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.kill()
		return errors.New("dashd did not stop within 30s of SIGTERM")
	}
	if !d.cmd.ProcessState.Success() {
		return fmt.Errorf("dashd stopped with %s", d.cmd.ProcessState)
	}
	return nil
}

func (d *alertDaemon) getJSON(path string, v any) error {
	resp, err := http.Get(d.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// states reads every check's damped state.
func (d *alertDaemon) states() (map[string]model.State, error) {
	var v struct {
		Checks []struct {
			Name  string      `json:"name"`
			State model.State `json:"state"`
		} `json:"checks"`
	}
	if err := d.getJSON("/api/v1/checks", &v); err != nil {
		return nil, err
	}
	out := map[string]model.State{}
	for _, c := range v.Checks {
		out[c.Name] = c.State
	}
	return out, nil
}

// waitStates waits until every named check shows want.
func (d *alertDaemon) waitStates(want model.State, names []string, limit time.Duration) error {
	return alertWait(limit, fmt.Sprintf("%d checks %s", len(names), want), func() (bool, error) {
		st, err := d.states()
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if st[n] != want {
				return false, nil
			}
		}
		return true, nil
	})
}

// channelState is an entry of GET /api/v1/channels.
type channelState struct {
	Name      string `json:"name"`
	Pending   int    `json:"pending"`
	LastError string `json:"last_error"`
}

func (d *alertDaemon) channels() (map[string]channelState, error) {
	var v struct{ Channels []channelState }
	if err := d.getJSON("/api/v1/channels", &v); err != nil {
		return nil, err
	}
	out := map[string]channelState{}
	for _, c := range v.Channels {
		out[c.Name] = c
	}
	return out, nil
}

// pending is what every channel has still to deliver.
func (d *alertDaemon) pending() (int, error) {
	chs, err := d.channels()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range chs {
		n += c.Pending
	}
	return n, nil
}

// drain waits until nothing is pending, twice with a pause between (a
// change that was on its way).
func (d *alertDaemon) drain(limit time.Duration) error {
	for range 2 {
		if err := alertWait(limit, "the outbox to drain", func() (bool, error) {
			n, err := d.pending()
			return n == 0, err
		}); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
	}
	return nil
}

// firing lists the alerts that fire now by alertIdent: the checks' state
// alerts, then their flapping alerts.
func (d *alertDaemon) firing() (state, flapping []string, err error) {
	var v struct {
		Alerts []model.Alert `json:"alerts"`
	}
	if err := d.getJSON("/api/v1/alerts", &v); err != nil {
		return nil, nil, err
	}
	for _, a := range v.Alerts {
		if a.Labels["flapping"] == "true" {
			flapping = append(flapping, a.Name)
		} else {
			state = append(state, a.Name)
		}
	}
	slices.Sort(state)
	slices.Sort(flapping)
	return state, flapping, nil
}

// events reads every stored event, oldest first.
func (d *alertDaemon) events() ([]model.Event, error) {
	var out []model.Event
	path := "/api/v1/events?limit=1000"
	for {
		// The API names the states from_state and to_state.
		var v struct {
			Events []struct {
				model.Event
				FromState model.State `json:"from_state"`
				ToState   model.State `json:"to_state"`
			} `json:"events"`
			Next uint64 `json:"next"`
		}
		if err := d.getJSON(path, &v); err != nil {
			return nil, err
		}
		for _, e := range v.Events {
			e.Event.From, e.Event.To = e.FromState, e.ToState
			out = append(out, e.Event)
		}
		if v.Next == 0 {
			break
		}
		path = "/api/v1/events?limit=1000&before=" + url.QueryEscape(fmt.Sprint(v.Next))
	}
	slices.Reverse(out)
	return out, nil
}

// alertWait polls cond every 250ms until it holds, an error, or limit.
func alertWait(limit time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
