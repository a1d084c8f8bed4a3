package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/series"
)

// fleetBench is one run of `dashd-bench fleet`: issue #18's figures, a
// real hub (bin/dashd serve with fleet:) and N simulated agents on real
// NATS connections in this process, sharing the machine's cores.
type fleetBench struct {
	bin       string
	n         int
	window    time.Duration
	warmup    time.Duration
	footprint time.Duration
	out       io.Writer
	dir       string
}

// runFleet is `dashd-bench fleet`.
func runFleet(args []string) error {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	b := &fleetBench{out: os.Stdout}
	fs.StringVar(&b.bin, "bin", "bin/dashd", "dashd binary to run as the hub and the real agent (build with make build)")
	fs.IntVar(&b.n, "n", 1000, "simulated agents, one NATS connection each")
	fs.DurationVar(&b.window, "duration", 60*time.Second, "measurement window")
	fs.DurationVar(&b.warmup, "warmup", 30*time.Second, "time after every agent started before measuring")
	fs.DurationVar(&b.footprint, "footprint", 30*time.Second, "agent footprint window (0: skip the phase)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.n < 2 || b.n > 10_000 {
		return fmt.Errorf("fleet: -n must be between 2 and 10000, got %d", b.n)
	}
	if _, err := os.Stat(b.bin); err != nil {
		return fmt.Errorf("fleet: %w (build it with make build)", err)
	}
	if lim, err := raiseFileLimit(uint64(b.n)*2 + 1024); err != nil || lim < uint64(b.n)+256 {
		return fmt.Errorf("fleet: %d connections need RLIMIT_NOFILE above %d (got %d): %v", b.n, b.n+256, lim, err)
	}
	var err error
	if b.dir, err = os.MkdirTemp("", "dashd-bench-fleet-"); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "dashd-bench fleet: %d simulated agents, a real hub (%s serve), files and logs in %s\n", b.n, b.bin, b.dir)
	if err = b.run(); err == nil {
		os.RemoveAll(b.dir)
	}
	return err
}

// fleetFigures is what a run found.
type fleetFigures struct {
	points                     int
	samplePayload, resultBytes int
	hubCPU, genCPU             float64 // % of one core, schedstat
	hubRSS                     footprintWindow
	hubRSSStart                uint64 // before any agent connected
	wireOut, wireIn            uint64 // over the window
	msgs, payload              uint64
	samples, results, failed   uint64
	acks, arrivals             []time.Duration
	diskStart, diskEnd         diskUse
	catchUp                    time.Duration
	unreachAPI, unreachAlert   time.Duration
	checkAPI, checkAlert       time.Duration
	checkAPIMissing            bool
	agent, single              fleetFootprint
	footprintErr               error

	// The browser on the fleet overview (fleet_overview.go).
	windowFrom, windowTo         time.Time    // the measurement window
	browser                      browserMatch // every host's samples of the window
	browserHosts                 int          // hosts whose tile showed a sample of the window
	view                         overviewWindow
	viewErr                      error
	checkView, unreachView       time.Duration
	checkAlertWhy, unreachAlrWhy string
}

func (b *fleetBench) run() (err error) {
	var f fleetFigures
	pts, err := hostPoints()
	if err != nil {
		return err
	}
	checks := make([]string, 20)
	for i := range checks {
		checks[i] = fmt.Sprintf("c-%02d", i)
		pts = append(pts, model.Point{Series: series.CheckLatency(checks[i]), Value: 12.5 + float64(i)})
	}
	f.points = len(pts)
	f.samplePayload = len(fleet.EncodeSample(model.Sample{Time: time.Now(), Points: pts}))
	if m, err := fleet.ResultMessage("sim-0000", model.Result{Check: "c-00", Time: time.Now(), State: model.StateUp,
		Latency: 12 * time.Millisecond, Values: map[string]float64{"status": 200}}); err == nil {
		f.resultBytes = len(m.Data)
	}

	hook, err := newAlertHook()
	if err != nil {
		return err
	}
	defer hook.down()
	natsAddr, err := freeLoopback()
	if err != nil {
		return err
	}
	hubDir := filepath.Join(b.dir, "hub")
	if err := os.MkdirAll(hubDir, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(hubDir, "dashd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	hub, err := startAlertDaemon(b.bin, hubDir, fleetHubConfig(natsAddr, b.n, hook), logf)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer func() {
		if hub != nil {
			hub.kill()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = waitPort(ctx, natsAddr)
	cancel()
	if err != nil {
		return err
	}
	hubProc := fmt.Sprintf("/proc/%d", hub.cmd.Process.Pid)
	if u, err := selfstat.ReadProc(hubProc); err == nil {
		f.hubRSSStart = u.RSSBytes
	}
	natsURL := "nats://" + natsAddr

	if b.footprint > 0 {
		fmt.Fprintf(b.out, "  agent footprint: a real dashd agent, then dashd serve, 20 checks every 10s, %s each after 10s warm-up\n", b.footprint)
		alog, err := os.Create(filepath.Join(b.dir, "agent-footprint.log"))
		if err != nil {
			return err
		}
		f.agent, f.single, f.footprintErr = runAgentFootprint(b.bin, b.dir, natsURL, b.footprint, 10*time.Second, alog)
		alog.Close()
	}

	// The load: N agents, each connected, then publishing on its phase.
	var c simCounters
	agents, err := connectSims(natsURL, b.n, &c)
	defer func() {
		for _, a := range agents {
			a.nc.Close()
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  %d agents connected; warm-up %s, then a %s window\n", len(agents), b.warmup, b.window)
	loadCtx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(loadCtx, simLoad{points: pts, checks: checks, every: 30 * time.Second,
				offset: time.Duration(i) * time.Second / time.Duration(len(agents))})
		}()
	}
	defer func() { stopLoad(); wg.Wait() }()

	// A browser on the fleet overview, open from the warm-up on.
	br, err := newOverviewReader(hub.base)
	if err != nil {
		return err
	}
	viewCtx, stopView := context.WithCancel(context.Background())
	ready := make(chan error, 1)
	var viewWG sync.WaitGroup
	viewWG.Add(1)
	go func() { defer viewWG.Done(); br.run(viewCtx, ready) }()
	defer func() { stopView(); viewWG.Wait() }()
	time.Sleep(b.warmup)
	select {
	case f.viewErr = <-ready:
	default:
		f.viewErr = errors.New("the overview stream did not open during the warm-up")
	}

	if err := b.measure(&f, hub, hubDir, hubProc, agents, &c, br); err != nil {
		return err
	}
	b.events(&f, hub, hook, agents, br)
	stopView()
	viewWG.Wait()
	if f.viewErr == nil {
		f.viewErr = br.lastErr()
	}
	for _, a := range agents {
		m := matchBrowser(a.sampleMarks(), br.seen(a.host), f.windowFrom, f.windowTo)
		f.browser.latencies = append(f.browser.latencies, m.latencies...)
		f.browser.exact += m.exact
		f.browser.overtaken += m.overtaken
		f.browser.missed += m.missed
		f.browser.shows = append(f.browser.shows, m.shows...)
		if m.exact+m.overtaken > 0 {
			f.browserHosts++
		}
	}

	stopLoad()
	wg.Wait()
	d := hub
	hub = nil
	if err := d.stop(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	b.report(&f)
	return nil
}

// hostPoints takes a real sample of this machine (the second: rates need
// two), the points the agent's sampler publishes.
func hostPoints() ([]model.Point, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var snaps []system.Snapshot
	s := system.New(system.Options{Interval: 300 * time.Millisecond, MountExclude: system.DefaultMountExclude()})
	_ = s.Run(ctx, func(snap system.Snapshot) {
		if snaps = append(snaps, snap); len(snaps) == 2 {
			cancel()
		}
	})
	if len(snaps) < 2 {
		return nil, errors.New("fleet: no sample from this machine's sampler")
	}
	return snaps[1].Points(), nil
}

// connectSims connects n agents, 64 at a time.
func connectSims(url string, n int, c *simCounters) ([]*simAgent, error) {
	agents := make([]*simAgent, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			agents[i], errs[i] = dialSim(url, simHost(i), c)
		}()
	}
	wg.Wait()
	out := make([]*simAgent, 0, n)
	for _, a := range agents {
		if a != nil {
			out = append(out, a)
		}
	}
	return out, errors.Join(errs...)
}

// measure reads the hub's CPU, RSS and files and the load's counters over
// the window, and matches the hub's arrival times to publish times.
func (b *fleetBench) measure(f *fleetFigures, hub *alertDaemon, hubDir, hubProc string, agents []*simAgent, c *simCounters, br *overviewReader) error {
	self := fmt.Sprintf("/proc/%d", os.Getpid())
	h0, err := taskCPU(hubProc)
	if err != nil {
		return err
	}
	g0, err := taskCPU(self)
	if err != nil {
		return err
	}
	f.diskStart = hubDisk(hubDir)
	out0, in0, m0, p0 := c.wireOut.Load(), c.wireIn.Load(), c.msgs.Load(), c.payload.Load()
	s0, r0, fail0 := c.samples.Load(), c.results.Load(), c.failed.Load()
	c.record(true)
	v0 := br.counters()
	t0 := time.Now()
	var rssSum, n uint64
	lastSeen := map[string]time.Time{}
	for time.Since(t0) < b.window {
		time.Sleep(time.Second)
		if u, err := selfstat.ReadProc(hubProc); err == nil {
			rssSum += u.RSSBytes
			n++
			f.hubRSS.rssMax = max(f.hubRSS.rssMax, u.RSSBytes)
		}
		hosts, err := hubHosts(hub)
		if err != nil {
			return fmt.Errorf("hub hosts: %w", err)
		}
		for _, a := range agents {
			h, ok := hosts[a.host]
			if !ok || !h.LastSeen.After(lastSeen[a.host]) || !h.LastSeen.After(t0) {
				continue
			}
			lastSeen[a.host] = h.LastSeen
			if d, ok := arrivalLatency(a.publishedTimes(), h.LastSeen); ok {
				f.arrivals = append(f.arrivals, d)
			}
		}
	}
	elapsed := time.Since(t0)
	f.acks = c.record(false)
	f.view = br.counters().since(v0)
	f.windowFrom, f.windowTo = t0, t0.Add(elapsed)
	h1, err := taskCPU(hubProc)
	if err != nil {
		return err
	}
	g1, err := taskCPU(self)
	if err != nil {
		return err
	}
	f.hubCPU = (h1 - h0).Seconds() / elapsed.Seconds() * 100
	f.genCPU = (g1 - g0).Seconds() / elapsed.Seconds() * 100
	f.hubRSS.elapsed = elapsed.Seconds()
	f.hubRSS.rssAvg = rssSum / max(n, 1)
	f.diskEnd = hubDisk(hubDir)
	f.wireOut, f.wireIn = c.wireOut.Load()-out0, c.wireIn.Load()-in0
	f.msgs, f.payload = c.msgs.Load()-m0, c.payload.Load()-p0
	f.samples, f.results, f.failed = c.samples.Load()-s0, c.results.Load()-r0, c.failed.Load()-fail0
	// Catch-up: how long until the hub has seen every agent's message
	// published before the window ended (a hub behind shows here).
	end := time.Now()
	f.catchUp = -1
	for time.Since(end) < 30*time.Second {
		hosts, err := hubHosts(hub)
		if err != nil {
			return err
		}
		behind := 0
		for _, a := range agents {
			if !hosts[a.host].LastSeen.After(end) {
				behind++
			}
		}
		if behind == 0 {
			f.catchUp = time.Since(end)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// events times a check going down on one agent, and an agent going
// silent, to the hub's API, to the overview stream br reads and to the
// alert's delivery.
func (b *fleetBench) events(f *fleetFigures, hub *alertDaemon, hook *alertHook, agents []*simAgent, br *overviewReader) {
	// A check down on agents[1].
	a := agents[1]
	checkFiring := func(al model.Alert) bool {
		return al.State == model.AlertFiring && (al.Labels["host"] == a.host || strings.Contains(al.Name, a.host)) &&
			(al.Labels["check"] == "c-05" || strings.Contains(al.Name, "c-05"))
	}
	t0 := time.Now()
	if err := a.checkDown("c-05", t0); err != nil {
		fmt.Fprintf(b.out, "  check down: %v\n", err)
	}
	f.checkAPI, f.checkAlert, f.checkView = -1, -1, -1
	for time.Since(t0) < 30*time.Second && (f.checkAPI < 0 || f.checkAlert < 0 || f.checkView < 0) {
		if f.checkAPI < 0 && !f.checkAPIMissing {
			st, found, err := hostCheckState(hub, a.host, "c-05")
			switch {
			case err == nil && !found:
				f.checkAPIMissing = true
			case err == nil && st == model.StateDown:
				f.checkAPI = time.Since(t0)
			}
		}
		if f.checkView < 0 {
			if at, ok := br.firstAfter(a.host, t0, func(o tileObs) bool { return o.checksDown }); ok {
				f.checkView = at.Sub(t0)
			}
		}
		if f.checkAlert < 0 {
			if at, ok := alertFor(hook, t0, checkFiring); ok {
				f.checkAlert = at.Sub(t0)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f.checkAlert < 0 {
		f.checkAlertWhy = alertDiagnosis(hub, hook, t0, checkFiring)
	}
	// agents[0] goes silent.
	s := agents[0]
	silentFiring := func(al model.Alert) bool {
		return al.State == model.AlertFiring && (al.Labels["host"] == s.host || strings.Contains(al.Name, s.host))
	}
	s.pause.Store(true)
	t0 = time.Now()
	f.unreachAPI, f.unreachAlert, f.unreachView = -1, -1, -1
	for time.Since(t0) < time.Minute && (f.unreachAPI < 0 || f.unreachAlert < 0 || f.unreachView < 0) {
		if f.unreachAPI < 0 {
			if hosts, err := hubHosts(hub); err == nil && hosts[s.host].State == "unreachable" {
				f.unreachAPI = time.Since(t0)
			}
		}
		if f.unreachView < 0 {
			if at, ok := br.firstAfter(s.host, t0, func(o tileObs) bool { return o.unreachable }); ok {
				f.unreachView = at.Sub(t0)
			}
		}
		if f.unreachAlert < 0 {
			if at, ok := alertFor(hook, t0, silentFiring); ok {
				f.unreachAlert = at.Sub(t0)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f.unreachAlert < 0 {
		f.unreachAlrWhy = alertDiagnosis(hub, hook, t0, silentFiring)
	}
	s.pause.Store(false)
}

// alertFor is when the first webhook message after t0 carrying an alert
// match took arrived.
func alertFor(h *alertHook, t0 time.Time, match func(model.Alert) bool) (time.Time, bool) {
	for _, r := range h.accepted("/ops") {
		if r.at.Before(t0) {
			continue
		}
		if slices.ContainsFunc(r.msg.Alerts, match) {
			return r.at, true
		}
	}
	return time.Time{}, false
}
