package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/internal/lifecycle"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

// runAgent is `dashd agent`: the sampler and the checks of this host,
// its own history, and the fleet publisher; no HTTP.
func runAgent(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	var ov overrides
	fs.StringVar(&ov.data, "data", "", "history database file (overrides storage.path; the spool goes beside it)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: dashd agent [--config PATH] [--data PATH]\n\nSamples this host, runs its checks and evaluates its alert rules like dashd\nserve, without the web UI or deliveries, and publishes everything to the hub\nover NATS (fleet.nats.urls). SIGHUP reloads checks, sampling and alert rules;\nSIGTERM or SIGINT stops it.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dashd agent: unexpected argument %q (see dashd agent --help)\n", fs.Arg(0))
		return 2
	}
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
	if cfg.Fleet == nil || len(cfg.Fleet.NATS.URLs) == 0 {
		fmt.Fprintln(stderr, "dashd agent: the configuration needs fleet.nats.urls (where the hub's NATS is)")
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	g, err := startAgent(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "dashd agent:", err)
		return 1
	}
	load := func() (*config.Config, error) {
		c, err := loadConfig(*path, true)
		if err == nil {
			ov.apply(c)
		}
		return c, err
	}
	return g.wait(sigs, load)
}

// agentParts are the running agent's parts that a reload reaches.
type agentParts struct {
	d      *daemon // its group, logger and stop: the daemon's own
	runner *collectors.Runner
	host   *system.Runner
	// latest holds the configuration the host rules read (a reload
	// sets the new one; they take it up at the next sample).
	latest *state.Latest
}

// agentStore lets the recorder be built before the publisher that tees
// its samples (the publisher needs the recorder's subscription first).
type agentStore struct{ flow.Store }

// startAgent builds the agent's parts and starts them in data-flow order.
func startAgent(cfg *config.Config, log *slog.Logger) (*agentParts, error) {
	hostname, _ := os.Hostname()
	host := cfg.Fleet.Host
	if host == "" {
		if host = config.FleetHostFrom(hostname); host == "" {
			return nil, fmt.Errorf("host name %q gives no valid fleet host name: set fleet.host", hostname)
		}
	}
	log = log.With("fleet_host", host)
	store, err := storage.Open(cfg.Storage.Path, storageOptions(cfg, log))
	if err != nil {
		return nil, err
	}
	spool, err := fleet.OpenSpool(filepath.Join(filepath.Dir(cfg.Storage.Path), "fleet-spool.db"), int64(cfg.Fleet.Spool.MaxSize))
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	fail := func(err error) (*agentParts, error) { return nil, errors.Join(err, spool.Close(), store.Close()) }
	opts, err := fleet.ConnectOptions(cfg.Fleet.NATS, host, log.With("part", "nats"))
	if err != nil {
		return fail(err)
	}
	nc, err := fleet.Connect(cfg.Fleet.NATS.URLs, opts)
	if err != nil {
		return fail(err)
	}
	fail = func(err error) (*agentParts, error) {
		nc.Close()
		return nil, errors.Join(err, spool.Close(), store.Close())
	}
	tee := &agentStore{Store: store}
	latest := state.New(cfg, time.Now())
	rec, err := flow.New(flow.Options{Store: tee, Latest: latest, Logger: log.With("part", "flow"),
		Meter: selfstat.New(selfstat.Sources{DBSize: store.Size})})
	if err != nil {
		return fail(err)
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	pub, err := fleet.NewPublisher(fleet.PublisherOptions{Conn: nc, Spool: spool, Events: rec.Subscribe("fleet", 4096),
		Hello: fleet.Hello{Host: host, OS: runtime.GOOS, Kernel: strings.TrimSpace(string(kernel)), Version: version,
			Labels: cfg.Fleet.Labels, IntervalMs: cfg.Collect.Interval.D().Milliseconds()},
		Logger: log.With("part", "fleet")})
	if err != nil {
		return fail(err)
	}
	tee.Store = pub.Tee(store)
	// The hub asks for this host's raw history instead of storing it.
	history, err := fleet.NewHistoryService(nc, host, store, log.With("part", "fleet-history"))
	if err != nil {
		return fail(err)
	}
	// The host rules (alerts.rules) are evaluated here, on this host's
	// samples; their alerts go to the hub with the events, which routes
	// and delivers them. Channels and routes are the hub's.
	hostRules, err := alert.NewAgentRules(alert.AgentRulesOptions{Store: store, Latest: latest, Recorder: rec,
		Host: host, Logger: log.With("part", "rules")})
	if err != nil {
		return fail(err)
	}
	if len(cfg.Alerts.Channels)+len(cfg.Alerts.Routes) > 0 {
		log.Info("alerts.channels and alerts.routes are not used by an agent: the hub delivers its alerts",
			"channels", len(cfg.Alerts.Channels), "routes", len(cfg.Alerts.Routes))
	}
	past, err := store.Events(0, 5000)
	if err != nil {
		log.Warn("recent check history not read; flap detection starts afresh", "err", err)
	}
	a := &agentParts{d: &daemon{log: log, group: lifecycle.New(log)}, latest: latest}
	a.runner = collectors.NewRunner(collectors.RunnerOptions{
		Past:          collectors.PastFromEvents(past, time.Now(), collectors.DefaultFlapWindow),
		MaxConcurrent: cfg.Collect.MaxConcurrentChecks, Align: time.Second,
		Logger: log.With("part", "checks"), Sink: rec, Subreaper: true,
	})
	a.host = system.NewRunner(samplerOptions(cfg, log), rec.Sample)
	if err := a.runner.Apply(cfg.Checks); err != nil {
		log.Error("some checks cannot run", "err", err)
	}
	// The daemon's order: storage first and last, then the recorder,
	// the publisher (it drains into the spool when it stops, after the
	// producers), the host rules (they stop before the publisher, so
	// their last alert is spooled), the producers.
	parts := []struct {
		name string
		run  func(context.Context) error
	}{
		{"storage", func(ctx context.Context) error { return errors.Join(store.Run(ctx), store.Close()) }},
		{"flow", func(ctx context.Context) error {
			<-ctx.Done()
			rec.Event(model.Event{Time: time.Now(), Kind: model.EventStop, Reason: "dashd agent stopped"})
			return rec.Close(context.Background())
		}},
		{"fleet", func(ctx context.Context) error {
			hctx, stopHistory := context.WithCancel(ctx)
			served := make(chan error, 1)
			go func() { served <- history.Run(hctx) }()
			err := pub.Run(ctx)
			stopHistory()
			err = errors.Join(err, <-served)
			nc.Close()
			return errors.Join(err, spool.Close())
		}},
		{"rules", hostRules.Run},
		{"procs", runProcs(true, latest, log)},
		{"host", a.host.Run},
		{"checks", a.runner.Run},
	}
	for _, p := range parts {
		if err := a.d.group.Go(p.name, p.run); err != nil {
			return nil, err
		}
	}
	rec.Event(model.Event{Time: time.Now(), Kind: model.EventStart, Reason: fmt.Sprintf("dashd agent %s started, %d checks", version, len(cfg.Checks))})
	log.Info("dashd agent started", "version", version, "nats", strings.Join(cfg.Fleet.NATS.URLs, ","),
		"data", cfg.Storage.Path, "checks", len(cfg.Checks), "rules", len(cfg.Alerts.Rules))
	return a, nil
}

// wait runs until a stop signal or a part failing; SIGHUP re-applies
// checks, sampling and the host rules.
func (a *agentParts) wait(sigs <-chan os.Signal, load func() (*config.Config, error)) int {
	for {
		select {
		case <-a.d.group.Failed():
			a.d.log.Error("a part stopped unexpectedly; stopping", "err", a.d.group.Err())
			a.d.stop(sigs)
			return 1
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				a.d.log.Info("stopping", "signal", sig.String())
				return a.d.stop(sigs)
			}
			cfg, err := load()
			if err != nil {
				a.d.log.Error("configuration rejected; still running on the last good one", "err", err)
				continue
			}
			if err := a.runner.Apply(cfg.Checks); err != nil {
				a.d.log.Error("applying checks", "err", err)
			}
			a.host.Apply(samplerOptions(cfg, a.d.log))
			a.latest.SetConfig(cfg)
			a.d.log.Info("configuration reloaded", "checks", len(cfg.Checks), "rules", len(cfg.Alerts.Rules))
		}
	}
}
