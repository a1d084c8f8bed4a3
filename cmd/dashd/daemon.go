package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/dashd/dashd/internal/tlscert"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleetview"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/internal/lifecycle"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/notify"
	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/server"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/statuspage"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// shutdownTimeout bounds the graceful part of a stop; systemd's
// TimeoutStopSec is longer so we always exit on our own terms.
const shutdownTimeout = 5 * time.Second

// daemon is the wiring: the parts, built once, run by one lifecycle group
// in data-flow order and stopped in reverse. What the parts do is in their
// packages; what is here is which part feeds which, and reloads.
type daemon struct {
	log    *slog.Logger
	load   func() (*config.Config, error)
	path   string
	group  *lifecycle.Group
	latest *state.Latest
	rec    *flow.Recorder
	runner *collectors.Runner
	host   *system.Runner
	sched  *scheduler.Scheduler
	hub    *hub.Hub
	auth   *auth.Service
	cert   *tlscert.Cert // nil: plain HTTP
	sd     *notifier

	reloads chan struct{} // from the config file watch
}

// start opens what can fail for reasons the operator must hear about at
// once (the port, the data file), builds every part and starts them.
func start(cfg *config.Config, log *slog.Logger, path string, load func() (*config.Config, error)) (*daemon, error) {
	// The listener comes first so a busy port fails before anything is opened.
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Server.Listen, unwrapOpError(err))
	}
	d, err := build(cfg, log, path, load, ln)
	if err != nil {
		return nil, errors.Join(err, ln.Close())
	}
	return d, nil
}

func build(cfg *config.Config, log *slog.Logger, path string, load func() (*config.Config, error), ln net.Listener) (*daemon, error) {
	assets, err := ui.LoadAssets()
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(cfg.Storage.Path, storageOptions(cfg, log))
	if err != nil {
		return nil, err
	}
	d := &daemon{log: log, load: load, path: path, group: lifecycle.New(log),
		latest: state.New(cfg, time.Now()), sd: newNotifier(log), reloads: make(chan struct{}, 1)}
	lim := clientLimits(cfg, log)
	d.hub = hub.New(hub.WithLogger(log.With("part", "hub")),
		// A client that cannot take a write within 2 s is evicted; it
		// also bounds how long a stalled client can hold up shutdown.
		hub.WithWriteTimeout(2*time.Second),
		hub.WithMaxStreams(lim.Streams), hub.WithMaxStreamsPerAddress(lim.StreamsPerAddr))

	fail := func(err error) (*daemon, error) { return nil, errors.Join(err, store.Close()) }
	d.rec, err = flow.New(flow.Options{Store: store, Latest: d.latest, Logger: log.With("part", "flow"),
		Meter: selfstat.New(selfstat.Sources{
			DBSize: store.Size,
			Hub:    func() (int, uint64) { return d.hub.ClientCount(), d.hub.Stats().EventsSent },
		})})
	if err != nil {
		return fail(err)
	}
	fh, err := newFleetHub(cfg, store, d.rec, log)
	if err != nil {
		return fail(err)
	}
	// The checks' recent history, so flapping survives a restart: a
	// bounded read of the newest events (a flap window's worth at most).
	past, err := store.Events(0, 5000)
	if err != nil {
		log.Warn("recent check history not read; flap detection starts afresh", "err", err)
	}
	d.runner = collectors.NewRunner(collectors.RunnerOptions{
		Past:          collectors.PastFromEvents(past, time.Now(), collectors.DefaultFlapWindow),
		MaxConcurrent: cfg.Collect.MaxConcurrentChecks,
		// Host sampling ticks on whole seconds too: one wake-up for both.
		Align:  time.Second,
		Logger: log.With("part", "checks"),
		Sink:   d.rec,
		// Nothing a command check starts outlives its run, not even what
		// double-forks away from it.
		Subreaper: true,
		// Self checks (url: self:/healthz) follow the bound address:
		// --listen overrides and port 0 included.
		Self: collectors.SelfAt(ln.Addr(), cfg.Server.TLS.Enabled()),
	})
	d.host = system.NewRunner(samplerOptions(cfg, log), d.rec.Sample)
	hostname, _ := os.Hostname()
	// On a hub, chat, incident actions and silences made here go to the
	// other hubs and theirs come here (the alerter is given below).
	acts, err := newFleetActions(fh, cfg, store, d.hub, log)
	if err != nil {
		return fail(err)
	}
	incidents, err := incident.New(incident.Options{Store: store, Recorder: d.rec,
		Events: d.rec.Subscribe("incidents", 1024), Checks: d.runner, Hub: d.hub, View: view.IncidentPush{},
		Sharer: incidentSharer(acts), Logger: log.With("part", "incidents")})
	if err != nil {
		return fail(err)
	}
	alerter, err := alert.New(alert.Options{
		Acks:  incidents,
		Store: store, Recorder: d.rec, Events: d.rec.Subscribe("alerts", 1024),
		Latest: d.latest, Checks: d.runner,
		NewSender: func(c config.Channel) (alert.Sender, error) {
			return channel.New(c, channel.Options{Logger: log.With("part", "alerts"), Version: version,
				RepeatInterval: d.latest.Config().Alerts.RepeatInterval.D(), Hostname: hostname})
		},
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe,
		Host: alertHost(cfg, hostname), Hosts: fleetHostLabels(fh), Logger: log.With("part", "alerts"),
	})
	if err != nil {
		return fail(err)
	}
	if fh != nil {
		// The agents' check events alert per host and open incidents.
		fh.SetAlerts(hostEvents{alerts: alerter, incidents: incidents})
	}
	if acts != nil {
		acts.SetTargets(incidents, alerter)
	}
	d.auth, err = auth.NewService(cfg.Auth, store, log.With("part", "auth"))
	if err != nil {
		return fail(err)
	}
	// A session that ends (sign-out, revocation, expiry, its user gone
	// from the configuration) loses its open streams at once.
	d.auth.Sessions().Watch(func(key string) { d.hub.CloseSession(key) })
	sparks := view.NewSparks(0, 0)
	d.sched, err = scheduler.New(scheduler.Options{
		Hub: d.hub, Latest: d.latest, Checks: d.runner, Store: store, Sparks: sparks, Alerts: alerter,
		Updates:  d.rec.Subscribe("scheduler", 1024),
		Interval: cfg.Dashboard.BroadcastInterval.D(),
		// Samples trigger broadcasts, so both happen in one wake-up.
		SampleInterval: cfg.Collect.Interval.D(),
		Version:        version,
		Logger:         log.With("part", "scheduler"),
	})
	if err != nil {
		return fail(err)
	}
	// The public status page's live streams (its page and feed are the
	// server's, cached per change).
	statusFeed, err := statuspage.New(statuspage.Options{Latest: d.latest, Checks: d.runner, Uptime: store,
		Incidents: incidents, Hub: d.hub, Events: d.rec.Subscribe("statuspage", 256), Logger: log.With("part", "statuspage")})
	if err != nil {
		return fail(err)
	}
	notes, err := notify.New(notify.Options{Store: store, Hub: d.hub,
		Events: d.rec.Subscribe("notify", 1024), Logger: log.With("part", "notify")})
	if err != nil {
		return fail(err)
	}
	var tlsConfig *tls.Config
	if t := cfg.Server.TLS; t.Enabled() {
		if d.cert, err = tlscert.Load(t.CertFile, t.KeyFile, log.With("part", "tls")); err != nil {
			return fail(err)
		}
		tlsConfig = d.cert.Config()
	}
	title := cfg.Dashboard.Title
	if title == "" {
		title = hostname
	}
	srv, err := server.New(server.Deps{
		Logger: log.With("part", "http"), Assets: assets, Version: version, Hostname: hostname, Title: title,
		Latest: d.latest, Checks: d.runner, Store: serverStore(store, acts), Hub: d.hub, Sparks: sparks, Flow: d.rec, Alerts: serverAlerts(alerter, store, acts),
		Auth: d.auth, Incidents: incidents, TLS: tlsConfig, TrustedProxies: cfg.Auth.Proxy.TrustedPrefixes, MetricsTextfileDir: cfg.Metrics.TextfileDirectory, Listen: ln.Addr().String(),
		// The configured name too: ln.Addr is numeric.
		AllowedHosts: append(listenHosts(cfg.Server.Listen), cfg.Server.AllowedHosts...),
		Connections:  connlimit.Limits{Total: lim.Connections, PerAddress: lim.ConnectionsPerAddr},
	})
	if err != nil {
		return fail(err)
	}
	// The fleet pages' live part: it polls the hosts only while a fleet
	// page is open (server/fleet.go serves the pages themselves).
	fleetPages, err := fleetview.New(fleetview.Options{Store: store, Latest: d.latest, Checks: d.runner, Hub: d.hub,
		Hostname: hostname, Version: version, Interval: cfg.Collect.Interval.D(), Logger: log.With("part", "fleet-pages")})
	if err != nil {
		return fail(err)
	}
	if fh != nil {
		// The fleet pages keep watched agents' state from what the
		// ingester commits, instead of reading every host each tick.
		fh.SetCommitted(fleetPages)
	}
	if err := d.runner.Apply(cfg.Checks); err != nil {
		log.Error("some checks cannot run", "err", err)
	}

	// Start order is the data flow; Stop reverses it: HTTP and streams end
	// first, then the producers, then the subscribers, then the recorder
	// flushes, and storage commits what is queued last of all.
	parts := []struct {
		name string
		run  func(context.Context) error
	}{
		{"storage", func(ctx context.Context) error {
			return errors.Join(store.Run(ctx), store.Close())
		}},
		{"flow", func(ctx context.Context) error {
			<-ctx.Done()
			d.rec.Event(model.Event{Time: time.Now(), Kind: model.EventStop, Reason: "dashd stopped"})
			return d.rec.Close(context.Background())
		}},
		{"fleet", runFleetHub(fh)},
		{"fleet-actions", runFleetActions(acts)},
		{"auth", d.auth.Run},
		{"notify", notes.Run},
		{"alerts", alerter.Run},
		{"incidents", incidents.Run},
		{"scheduler", d.sched.Run},
		{"procs", runProcs(fh == nil, d.latest, log)},
		{"statuspage", statusFeed.Run},
		{"fleet-pages", fleetPages.Run},
		{"host", d.host.Run},
		{"checks", d.runner.Run},
		{"hub", d.hub.Run},
		{"http", func(ctx context.Context) error { return srv.Run(ctx, ln) }},
		{"systemd", d.sd.run(d.latest, d.runner, d.hub)},
	}
	watch := func(name, file, what string, changed func()) {
		fw, err := newFileWatch(file, log)
		if err != nil {
			log.Warn("not watching the "+what+"; reload with SIGHUP", "file", file, "err", err)
			return
		}
		parts = append(parts, struct {
			name string
			run  func(context.Context) error
		}{name, func(ctx context.Context) error { return fw.Run(ctx, 500*time.Millisecond, changed) }})
	}
	if !cfg.Embedded {
		watch("config-watch", path, "config file", func() {
			select {
			case d.reloads <- struct{}{}:
			default: // a reload is already pending
			}
		})
	}
	if d.cert != nil {
		// A renewed certificate is served from the next handshake; open
		// connections and streams keep theirs.
		renewed := func() { _ = d.cert.Reload() } // Reload logs its own failure
		watch("cert-watch", cfg.Server.TLS.CertFile, "TLS certificate", renewed)
		watch("key-watch", cfg.Server.TLS.KeyFile, "TLS key", renewed)
	}
	for _, p := range parts {
		if err := d.group.Go(p.name, p.run); err != nil {
			return nil, err
		}
	}
	d.rec.Event(model.Event{Time: time.Now(), Kind: model.EventStart, Reason: fmt.Sprintf("dashd %s started, %d checks", version, len(cfg.Checks))})
	log.Info("dashd started", "version", version, "listen", ln.Addr().String(),
		"config", cfg.File, "data", cfg.Storage.Path, "checks", len(cfg.Checks))
	return d, nil
}

func storageOptions(cfg *config.Config, log *slog.Logger) storage.Options {
	o := storage.DefaultOptions()
	r := cfg.Storage.Retention
	o.Retention = storage.Retention{
		Raw: r.Raw.D(), Minute: r.Minute.D(), Hour: r.Hour.D(), Results: r.Results.D(),
		Events: r.Events.D(), Chat: r.Chat.D(), Notifications: r.Notifications.D(),
	}
	o.ChatMaxBytes = cfg.Chat.MaxStorage.Bytes()
	o.CommitInterval = cfg.Storage.CommitInterval.D()
	o.Logger = log.With("part", "storage")
	return o
}

// wait runs until a stop signal or a part failing, and returns the exit
// code.
func (d *daemon) wait(sigs <-chan os.Signal) int {
	for {
		select {
		case <-d.reloads:
			d.reload()
		case <-d.group.Failed():
			d.log.Error("a part stopped unexpectedly; stopping", "err", d.group.Err())
			d.sd.stopping()
			d.stop(sigs)
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info("stopping", "signal", sig.String())
			d.sd.stopping()
			return d.stop(sigs)
		}
	}
}

// reload re-reads the configuration; an invalid one is logged problem by
// problem and the last good configuration keeps running.
func (d *daemon) reload() {
	done := d.sd.reloading()
	defer done()
	// The certificate first: a renewal is taken even when the
	// configuration beside it is rejected.
	if d.cert != nil {
		_ = d.cert.Reload() // logs its own failure; the old pair keeps serving
	}
	cfg, err := d.load()
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
		d.rec.Event(model.Event{Time: time.Now(), Kind: model.EventConfig, Reason: "configuration rejected: " + firstLine(err.Error())})
		return
	}
	old := d.latest.Config()
	if keys := config.RestartRequired(old, cfg); len(keys) > 0 {
		d.log.Warn("changes take effect on restart", "keys", keys)
		cfg = config.KeepRunning(old, cfg)
	}
	reject := func(msg string) {
		d.log.Error("config problem", "problem", msg)
		d.latest.Reject([]config.Problem{{File: cfg.File, Message: msg}}, time.Now())
		d.log.Warn("configuration rejected; still running on the last good one")
		d.rec.Event(model.Event{Time: time.Now(), Kind: model.EventConfig, Reason: "configuration rejected: " + msg})
	}
	if msg := cfg.ExposedWithoutAuth(); msg != "" {
		reject(msg)
		return
	}
	// Auth first: users and tokens that cannot be used reject the whole
	// reload before anything else changed.
	actx, acancel := context.WithTimeout(context.Background(), 5*time.Second)
	err = d.auth.Apply(actx, cfg.Auth)
	acancel()
	if err != nil {
		reject(err.Error())
		return
	}
	if err := d.runner.Apply(cfg.Checks); err != nil {
		d.log.Error("applying checks", "err", err)
	}
	d.host.Apply(samplerOptions(cfg, d.log))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	d.sched.SetInterval(ctx, cfg.Dashboard.BroadcastInterval.D(), cfg.Collect.Interval.D())
	cancel()
	d.latest.SetConfig(cfg)
	d.log.Info("configuration reloaded", "config", cfg.File, "checks", len(cfg.Checks))
	d.rec.Event(model.Event{Time: time.Now(), Kind: model.EventReload, Reason: fmt.Sprintf("configuration reloaded, %d checks", len(cfg.Checks))})
}

// stop stops every part in reverse start order; a second stop signal exits
// at once.
func (d *daemon) stop(sigs <-chan os.Signal) int {
	done := make(chan int, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*shutdownTimeout)
		defer cancel()
		if err := d.group.Stop(ctx); err != nil {
			d.log.Error("stopping", "err", err)
			done <- 1
			return
		}
		d.log.Info("dashd stopped")
		done <- 0
	}()
	for {
		select {
		case code := <-done:
			if d.group.Err() != nil {
				return 1
			}
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
