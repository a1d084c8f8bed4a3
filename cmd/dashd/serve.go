package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/server"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// shutdownTimeout bounds the graceful part of a stop; systemd's
// TimeoutStopSec is longer so we always exit on our own terms.
const shutdownTimeout = 5 * time.Second

// overrides are command-line values that win over the file on every (re)load.
type overrides struct {
	listen, data string
}

func (o overrides) apply(c *config.Config) {
	if o.listen != "" {
		c.Server.Listen = o.listen
	}
	if o.data != "" {
		c.Storage.Path = o.data
	}
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	var ov overrides
	fs.StringVar(&ov.listen, "listen", "", "address to listen on, host:port (overrides server.listen; default 127.0.0.1:8080)")
	fs.StringVar(&ov.data, "data", "", "history database file (overrides storage.path; default ./data/dashd.db)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: dashd [serve] [--config PATH] [--listen ADDR] [--data PATH]\n\nRuns the dashboard daemon. SIGHUP reloads the configuration; SIGTERM or SIGINT\nstops it (a second signal stops it at once).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dashd: unexpected argument %q (see dashd --help)\n", fs.Arg(0))
		return 2
	}
	// Signals are caught before anything starts: a SIGHUP that arrives while
	// the listener is already up but the main loop not yet running must not
	// take the default action (exit).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	explicit := explicitConfig(fs)
	cfg, err := loadConfig(*path, explicit)
	if err != nil {
		printConfigError(stderr, err)
		return 1
	}
	ov.apply(cfg)
	log := newLogger(cfg.Log, stderr)

	d, err := start(cfg, log, *path, func() (*config.Config, error) {
		// Once a file was read, a missing file on reload is an error: never
		// fall back to the embedded example under a running daemon.
		c, err := loadConfig(*path, explicit || !strings.HasSuffix(cfg.File, embeddedSuffix))
		if err == nil {
			ov.apply(c)
		}
		return c, err
	})
	if err != nil {
		fmt.Fprintln(stderr, "dashd:", err)
		return 1
	}
	return d.wait(sigs)
}

// printConfigError prints every problem of an invalid configuration.
func printConfigError(w io.Writer, err error) {
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Fprintln(w, p.String())
		}
		fmt.Fprintf(w, "dashd: invalid configuration (%d problem(s))\n", len(ce.Problems))
		return
	}
	fmt.Fprintln(w, "dashd:", err)
}

// daemon holds the running parts. Start order follows the data flow; stop order
// reverses it so nothing writes into a part that is already gone.
type daemon struct {
	log    *slog.Logger
	reload func() (*config.Config, error)
	latest *state.Latest
	store  *storage.DB
	hub    *hub.Hub
	runner *collectors.Runner
	sched  *scheduler.Scheduler
	srv    *server.Server

	// pendingMu guards pending: check latency points waiting to ride along
	// with the next host sample, so results cost no transaction of their own.
	pendingMu sync.Mutex
	pending   []model.Point

	collectCancel context.CancelFunc
	collectWG     sync.WaitGroup
	hubCancel     context.CancelFunc
	hubDone       chan struct{}
	storeCancel   context.CancelFunc
	storeDone     chan error
	serveDone     chan error
	reloadReq     chan struct{}
	notify        *notifier
	ready         bool // READY=1 sent; only the main loop touches it

	// The sampler is restarted when a reload changes the collect section;
	// only the main loop touches these fields.
	collectCtx    context.Context
	meter         *selfstat.Meter
	samplerCancel context.CancelFunc
	samplerDone   chan struct{}
}

func start(cfg *config.Config, log *slog.Logger, path string, reload func() (*config.Config, error)) (*daemon, error) {
	// The listener comes first so a busy port fails before anything is opened.
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Server.Listen, unwrapOpError(err))
	}
	assets, err := ui.LoadAssets()
	if err != nil {
		ln.Close()
		return nil, err
	}
	sopts := storage.DefaultOptions()
	r := cfg.Storage.Retention
	sopts.Retention = storage.Retention{
		Raw: r.Raw.D(), Minute: r.Minute.D(), Hour: r.Hour.D(), Results: r.Results.D(),
		Events: r.Events.D(), Chat: r.Chat.D(), Notifications: r.Notifications.D(),
	}
	sopts.Logger = log.With("part", "storage")
	sopts.ChatMaxBytes = cfg.Chat.MaxStorage.Bytes()
	store, err := storage.Open(cfg.Storage.Path, sopts)
	if err != nil {
		ln.Close()
		return nil, err
	}

	d := &daemon{
		log:       log,
		reload:    reload,
		latest:    state.New(cfg, time.Now()),
		store:     store,
		hubDone:   make(chan struct{}),
		storeDone: make(chan error, 1),
		serveDone: make(chan error, 1),
		reloadReq: make(chan struct{}, 1),
		notify:    newNotifier(log),
	}
	storeCtx, storeCancel := context.WithCancel(context.Background())
	d.storeCancel = storeCancel
	go func() { d.storeDone <- store.Run(storeCtx) }()

	// A client that cannot take a write within 2 s is evicted; it also
	// bounds how long a stalled client can hold up shutdown.
	lim := clientLimits(cfg, log)
	d.hub = hub.New(hub.WithLogger(log.With("part", "hub")), hub.WithWriteTimeout(2*time.Second),
		hub.WithMaxStreams(lim.Streams), hub.WithMaxStreamsPerAddress(lim.StreamsPerAddr))
	hubCtx, hubCancel := context.WithCancel(context.Background())
	d.hubCancel = hubCancel
	go func() { d.hub.Run(hubCtx); close(d.hubDone) }()

	d.runner = collectors.NewRunner(collectors.RunnerOptions{
		MaxConcurrent: cfg.Collect.MaxConcurrentChecks,
		// Host sampling ticks on whole seconds too: one wake-up for both.
		Align:  time.Second,
		Logger: log.With("part", "checks"),
		// Nothing a command check starts outlives its run, not even what
		// double-forks away from it.
		Subreaper: true,
		OnResult:  d.onResult,
		OnEvent:   d.onCheckEvent,
	})

	hostname, _ := os.Hostname()
	title := cfg.Dashboard.Title
	if title == "" {
		title = hostname
	}
	d.sched = scheduler.New(scheduler.Options{
		Hub:      d.hub,
		Latest:   d.latest,
		Checks:   d.runner,
		Store:    store,
		Interval: cfg.Dashboard.BroadcastInterval.D(),
		// Samples trigger broadcasts, so both happen in one wake-up.
		SampleInterval: cfg.Collect.Interval.D(),
		Version:        version,
		Logger:         log.With("part", "scheduler"),
	})
	d.srv = server.New(server.Deps{
		Logger:    log.With("part", "http"),
		Assets:    assets,
		Version:   version,
		Hostname:  hostname,
		Title:     title,
		Latest:    d.latest,
		Checks:    d.runner,
		Store:     store,
		Hub:       d.hub,
		Scheduler: d.sched,
		UIStore:   store,
		Listen:    ln.Addr().String(),
		// The configured name too: ln.Addr is numeric.
		AllowedHosts: append(listenHosts(cfg.Server.Listen), cfg.Server.AllowedHosts...),
		Connections:  connlimit.Limits{Total: lim.Connections, PerAddress: lim.ConnectionsPerAddr},
	})

	collectCtx, collectCancel := context.WithCancel(context.Background())
	d.collectCancel = collectCancel
	d.goCollect(func() error { return d.sched.Run(collectCtx) })
	d.goCollect(func() error { return d.runner.Run(collectCtx) })
	d.meter = selfstat.New(selfstat.Sources{
		DBSize: store.Size,
		Hub: func() (int, uint64) {
			return d.hub.ClientCount(), d.hub.Stats().EventsSent
		},
	})
	d.collectCtx = collectCtx
	d.startSampler(cfg)
	d.runner.Apply(cfg.Checks)
	if !strings.HasSuffix(cfg.File, embeddedSuffix) {
		err := watchConfig(collectCtx, path, 500*time.Millisecond, log, func() {
			select {
			case d.reloadReq <- struct{}{}:
			default: // a reload is already pending
			}
		})
		if err != nil {
			log.Warn("not watching the config file; reload with SIGHUP", "err", err)
		}
	}

	go func() { d.serveDone <- d.srv.Serve(ln) }()
	d.event(model.EventStart, fmt.Sprintf("dashd %s started, %d checks", version, len(cfg.Checks)))
	log.Info("dashd started", "version", version, "listen", ln.Addr().String(),
		"config", cfg.File, "data", cfg.Storage.Path, "checks", len(cfg.Checks))
	return d, nil
}

// clientLimits is the connection and stream budget: the configured caps,
// and for those left at 0 what RLIMIT_NOFILE leaves after dashd's own
// needs (see connlimit.NewBudget).
func clientLimits(cfg *config.Config, log *slog.Logger) connlimit.Budget {
	nofile, err := connlimit.FileLimit()
	if err != nil {
		log.Warn("file descriptor limit unknown; assuming 1024", "err", err)
		nofile = 1024
	}
	b := connlimit.NewBudget(nofile, cfg.Collect.MaxConcurrentChecks)
	l := cfg.Server.Limits
	set := func(v *int, configured int) {
		if configured > 0 {
			*v = configured
		}
	}
	set(&b.Connections, l.MaxConnections)
	set(&b.ConnectionsPerAddr, l.MaxConnectionsPerAddress)
	set(&b.Streams, l.MaxStreams)
	set(&b.StreamsPerAddr, l.MaxStreamsPerAddress)
	// A stream is a connection: a derived connection cap never sits below
	// a configured stream cap.
	if l.MaxConnections == 0 && b.Connections < b.Streams {
		b.Connections = b.Streams + b.Streams/4
	}
	if l.MaxConnectionsPerAddress == 0 && b.ConnectionsPerAddr < b.StreamsPerAddr {
		b.ConnectionsPerAddr = b.StreamsPerAddr + b.StreamsPerAddr/4
	}
	log.Info("client limits", "nofile", b.NoFile, "connections", b.Connections, "connections_per_address", b.ConnectionsPerAddr,
		"streams", b.Streams, "streams_per_address", b.StreamsPerAddr)
	return b
}

// listenHosts is the host of a listen address when it is a name
// ("dash.lan:8080"), for the Host check; IP literals need no entry.
func listenHosts(listen string) []string {
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		return []string{h}
	}
	return nil
}

func samplerOptions(cfg *config.Config, log *slog.Logger) system.Options {
	c := cfg.Collect
	return system.Options{
		Interval:        c.Interval.D(),
		ProcessInterval: c.ProcessInterval.D(),
		TopN:            c.TopProcesses,
		MountInclude:    c.Filesystems.Include,
		// Configured excludes add to the built-in pseudo-filesystem list
		// instead of replacing it.
		MountExclude:     append(system.DefaultMountExclude(), c.Filesystems.Exclude...),
		InterfaceInclude: c.Network.Include,
		InterfaceExclude: append([]string{}, c.Network.Exclude...),
		Logger:           log.With("part", "system"),
	}
}

// samplingChanged reports whether the host sampler must restart to follow a
// new collect section (the check runner's bound is not the sampler's).
func samplingChanged(a, b config.Collect) bool {
	a.MaxConcurrentChecks, b.MaxConcurrentChecks = 0, 0
	return !reflect.DeepEqual(a, b)
}

// startSampler starts host sampling with cfg's collect settings.
func (d *daemon) startSampler(cfg *config.Config) {
	ctx, cancel := context.WithCancel(d.collectCtx)
	done := make(chan struct{})
	sampler := system.New(samplerOptions(cfg, d.log))
	d.samplerCancel, d.samplerDone = cancel, done
	d.goCollect(func() error {
		defer close(done)
		return sampler.Run(ctx, d.onSample)
	})
}

// onSample runs on the sampler's goroutine, one call at a time.
func (d *daemon) onSample(s system.Snapshot) {
	points := s.Points()
	if f, err := d.meter.Sample(s.Time); err == nil {
		d.latest.SetSelf(f)
		points = append(points,
			model.Point{Series: "dashd.cpu_pct", Value: f.CPUPercent},
			model.Point{Series: "dashd.rss", Value: float64(f.RSSBytes)},
			model.Point{Series: "dashd.goroutines", Value: float64(f.Goroutines)})
	}
	d.latest.SetSystem(s)
	d.pendingMu.Lock()
	points = append(points, d.pending...)
	d.pending = d.pending[:0]
	d.pendingMu.Unlock()
	if err := d.store.WriteSample(model.Sample{Time: s.Time, Points: points}); err != nil {
		d.log.Warn("dropping host sample", "err", err)
	}
}

func (d *daemon) goCollect(fn func() error) {
	d.collectWG.Add(1)
	go func() {
		defer d.collectWG.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("collector stopped", "err", err)
		}
	}()
}

func (d *daemon) onResult(r model.Result) {
	if err := d.store.WriteResult(r); err != nil {
		d.log.Warn("dropping check result", "check", r.Check, "err", err)
	}
	d.pendingMu.Lock()
	if len(d.pending) < maxPending {
		d.pending = append(d.pending, model.Point{Series: scheduler.LatencySeries(r.Check), Value: float64(r.Latency) / float64(time.Millisecond)})
	}
	d.pendingMu.Unlock()
}

// maxPending caps latency points waiting for a host sample, should sampling
// stall: the results themselves are stored regardless.
const maxPending = 10_000

// flushPending writes latency points that no host sample took along (at
// shutdown, after the collectors stopped).
func (d *daemon) flushPending() {
	d.pendingMu.Lock()
	points := d.pending
	d.pending = nil
	d.pendingMu.Unlock()
	if len(points) == 0 {
		return
	}
	if err := d.store.WriteSample(model.Sample{Time: time.Now(), Points: points}); err != nil {
		d.log.Warn("dropping check latency points", "points", len(points), "err", err)
	}
}

func (d *daemon) onCheckEvent(e model.Event) { d.record(e) }

// event records one of dashd's own events.
func (d *daemon) event(kind model.EventKind, reason string) {
	d.record(model.Event{Time: time.Now(), Kind: kind, Reason: reason})
}

// record stores an event, then hands the stored copy (with its ID) to the
// scheduler for the live pages and notifications.
func (d *daemon) record(e model.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stored, err := d.store.AddEvent(ctx, e)
	if err != nil {
		d.log.Warn("storing event", "kind", e.Kind, "check", e.Check, "err", err)
		return
	}
	d.sched.Record(stored)
}

// statusEvery is how often the STATUS= line is refreshed for systemd.
const statusEvery = 5 * time.Second

// alignUp returns the first multiple of d (from the zero time; whole
// seconds for whole-second d) after t.
func alignUp(t time.Time, d time.Duration) time.Time { return t.Truncate(d).Add(d) }

// wait runs until a stop signal and returns the exit code. It is the main
// loop: readiness, watchdog pings and status lines for systemd come from here.
func (d *daemon) wait(sigs <-chan os.Signal) int {
	// Fast polling only until READY=1; then status lines and watchdog pings
	// need a wake-up every few seconds, on the whole-second grid where host
	// sampling wakes the process anyway.
	every := 100 * time.Millisecond
	timer := time.NewTimer(every)
	defer timer.Stop()
	var lastStatus time.Time
	for {
		select {
		case now := <-timer.C:
			if !d.ready && d.latest.Samples() > 0 {
				// READY=1 only once the listener is up, storage is open
				// (both done in start) and the first sample is taken.
				d.ready = true
				d.notify.ready()
				d.log.Info("ready")
				every = statusEvery
				if wd := d.notify.watchdog; wd > 0 {
					every = min(every, wd/4)
				}
			}
			if d.ready {
				if now.Sub(lastStatus) >= statusEvery-every/2 {
					d.notify.status(d.statusLine())
					lastStatus = now
				}
				if d.notify.watchdog > 0 && d.collecting(now) {
					d.notify.ping()
				}
			}
			timer.Reset(time.Until(alignUp(time.Now(), every)))
		case <-d.reloadReq:
			d.doReload()
		case err := <-d.serveDone:
			d.log.Error("http server stopped unexpectedly", "err", err)
			d.stop(sigs)
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.doReload()
				continue
			}
			d.log.Info("stopping", "signal", sig.String())
			d.notify.stopping()
			return d.stop(sigs)
		}
	}
}

// doReload re-reads the configuration; an invalid one is logged problem by
// problem and the last good configuration keeps running.
func (d *daemon) doReload() {
	// Before the first READY=1, a reload must not announce readiness.
	if d.ready {
		d.notify.reloading()
		defer d.notify.ready()
	}
	cfg, err := d.reload()
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				d.log.Error("config problem", "problem", p.String())
			}
			d.latest.Reject(ce.Problems, time.Now())
		} else {
			d.log.Error("config reload failed", "err", err)
			d.latest.Reject([]config.Problem{{File: d.latest.Config().File, Message: err.Error()}}, time.Now())
		}
		d.log.Warn("configuration rejected; still running on the last good one")
		d.event(model.EventConfig, "configuration rejected: "+firstLine(err.Error()))
		return
	}
	old := d.latest.Config()
	if !reflect.DeepEqual(cfg.Server, old.Server) || !reflect.DeepEqual(cfg.Storage, old.Storage) ||
		cfg.Collect.MaxConcurrentChecks != old.Collect.MaxConcurrentChecks ||
		cfg.Dashboard.Title != old.Dashboard.Title || cfg.Log != old.Log {
		d.log.Warn("changes to server, storage, log, dashboard.title and collect.max_concurrent_checks take effect on restart")
		// The configuration in force keeps what is really running.
		cfg.Server, cfg.Storage, cfg.Log = old.Server, old.Storage, old.Log
		cfg.Dashboard.Title = old.Dashboard.Title
		cfg.Collect.MaxConcurrentChecks = old.Collect.MaxConcurrentChecks
	}
	if err := d.runner.Apply(cfg.Checks); err != nil {
		d.log.Error("applying checks", "err", err)
	}
	if samplingChanged(old.Collect, cfg.Collect) {
		d.samplerCancel()
		<-d.samplerDone
		d.startSampler(cfg)
		d.log.Info("host sampling restarted with the new collect settings", "interval", cfg.Collect.Interval)
	}
	if cfg.Dashboard.BroadcastInterval != old.Dashboard.BroadcastInterval || cfg.Collect.Interval != old.Collect.Interval {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d.sched.SetInterval(ctx, cfg.Dashboard.BroadcastInterval.D(), cfg.Collect.Interval.D())
		cancel()
	}
	d.latest.SetConfig(cfg)
	d.log.Info("configuration reloaded", "config", cfg.File, "checks", len(cfg.Checks))
	d.event(model.EventReload, fmt.Sprintf("configuration reloaded, %d checks", len(cfg.Checks)))
}

// stop shuts down in reverse data-flow order: streams and HTTP first, then
// collectors, then storage, which flushes everything queued. A second signal
// exits at once.
func (d *daemon) stop(sigs <-chan os.Signal) int {
	done := make(chan int, 1)
	go func() { done <- d.shutdown() }()
	for {
		select {
		case code := <-done:
			return code
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				// A reload asked for while stopping is moot; only a
				// second stop signal cuts the graceful path short.
				continue
			}
			d.log.Warn("second signal: exiting immediately", "signal", sig.String())
			return 1
		}
	}
}

func (d *daemon) shutdown() int {
	code := 0
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	d.hubCancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		// Requests still open past the deadline are cut; nothing is lost
		// by that, so it is not a failed stop.
		d.log.Warn("http shutdown", "err", err)
	}
	<-d.hubDone
	d.collectCancel()
	d.collectWG.Wait()
	d.flushPending()
	_ = d.meter.Close() // its kept-open /proc files; nothing to lose
	d.event(model.EventStop, "dashd stopped")
	d.storeCancel()
	if err := <-d.storeDone; err != nil && !errors.Is(err, context.Canceled) {
		d.log.Error("storage writer", "err", err)
		code = 1
	}
	if err := d.store.Close(); err != nil {
		d.log.Error("closing storage", "err", err)
		code = 1
	}
	d.log.Info("dashd stopped")
	return code
}

// collecting reports whether host sampling is making progress: the newest
// sample is at most three intervals (plus slack for a slow tick) old. A stalled
// collector stops the watchdog pings so systemd restarts us.
func (d *daemon) collecting(now time.Time) bool {
	snap, ok := d.latest.System()
	if !ok {
		return false
	}
	limit := 3*d.latest.Config().Collect.Interval.D() + 5*time.Second
	return now.Sub(snap.Time) < limit
}

// statusLine is the one-line summary systemctl status shows.
func (d *daemon) statusLine() string {
	counts := map[model.State]int{}
	for _, st := range d.runner.Statuses() {
		counts[st.State]++
	}
	return fmt.Sprintf("checks: %d up, %d degraded, %d down, %d unknown; %d SSE clients",
		counts[model.StateUp], counts[model.StateDegraded], counts[model.StateDown],
		counts[model.StateUnknown], d.hub.ClientCount())
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// unwrapOpError turns "listen tcp 127.0.0.1:8080: bind: address already in use"
// into its last part: the address is already in our own message.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
}
