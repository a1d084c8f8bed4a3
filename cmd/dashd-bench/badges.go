package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/auth"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	dashdserver "github.com/dashd/dashd/server"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// runBadges measures badge requests per second against a real server on
// loopback: a bbolt file in a temporary directory, a check Runner probing a
// local HTTP target, and the full fiber app. It runs two phases with the same
// concurrency: "200", plain GETs that render the SVG, and "304", GETs that
// carry the ETag of the first answer and get a bodiless Not Modified.
//
// The load generator runs in the same process (keep-alive net/http
// clients), so on a small machine the figures are a floor: the client
// spends about as much CPU as the server. With -serve it only serves and
// prints the address, for an external tool such as wrk.
func runBadges(args []string) error {
	fs := flag.NewFlagSet("badges", flag.ContinueOnError)
	conc := fs.Int("c", 32, "concurrent keep-alive connections")
	dur := fs.Duration("duration", 5*time.Second, "length of each phase")
	path := fs.String("path", "/badge/web.svg", "badge to request")
	serveOnly := fs.Bool("serve", false, "only serve (print the address and wait for Ctrl-C), for wrk")
	if err := fs.Parse(args); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, stop, err := startBadgeServer(ctx)
	if err != nil {
		return err
	}
	defer stop()
	base := "http://" + addr
	if *serveOnly {
		fmt.Printf("serving on %s (e.g. wrk -t2 -c32 -d10s %s%s)\n", addr, base, *path)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return nil
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	resp, err := client.Get(base + *path)
	if err != nil {
		return fmt.Errorf("badges: first request: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		return fmt.Errorf("badges: %s answered %d with ETag %q", *path, resp.StatusCode, etag)
	}

	fmt.Printf("badges: %s, %d connections, %s per phase, GOMAXPROCS=%d (client in the same process)\n", *path, *conc, *dur, runtime.GOMAXPROCS(0))
	fmt.Printf("%-6s %10s %10s %10s %10s %8s\n", "phase", "requests", "req/s", "p50", "p99", "errors")
	for _, ph := range []struct {
		name, inm string
		want      int
	}{{"200", "", http.StatusOK}, {"304", etag, http.StatusNotModified}} {
		r := badgeLoad(client, base+*path, ph.inm, ph.want, *conc, *dur)
		fmt.Printf("%-6s %10d %10.0f %10s %10s %8d\n", ph.name, r.n, float64(r.n)/r.elapsed.Seconds(),
			r.pct(0.50).Round(time.Microsecond), r.pct(0.99).Round(time.Microsecond), r.errs)
	}
	return nil
}

type badgePhase struct {
	n, errs   int64
	elapsed   time.Duration
	latencies []time.Duration
}

func (r badgePhase) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[int(p*float64(len(r.latencies)-1))]
}

// badgeLoad runs conc workers for d, each sending GETs back to back on its
// own keep-alive connection.
func badgeLoad(client *http.Client, url, inm string, want, conc int, d time.Duration) badgePhase {
	var n, errs atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, 1<<14)
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if inm != "" {
					req.Header.Set("If-None-Match", inm)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				own = append(own, time.Since(t0))
				if resp.StatusCode != want {
					errs.Add(1)
					continue
				}
				n.Add(1)
			}
			mu.Lock()
			lats = append(lats, own...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return badgePhase{n: n.Load(), errs: errs.Load(), elapsed: time.Since(start), latencies: lats}
}

// startBadgeServer wires real parts the way cmd/dashd does and serves them on
// a loopback port. stop shuts everything down and removes the database.
func startBadgeServer(ctx context.Context) (addr string, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	dir, err := os.MkdirTemp("", "dashd-bench-badges-")
	if err != nil {
		cancel()
		return "", nil, err
	}
	cleanup := []func(){func() { os.RemoveAll(dir) }}
	fail := func(err error) (string, func(), error) {
		cancel()
		wg.Wait()
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		return "", nil, err
	}

	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	// Serve returns http.ErrServerClosed at Close; any other failure shows
	// as a down check, which fails the wait below.
	go func() { _ = target.Serve(tln) }()
	cleanup = append(cleanup, func() { _ = target.Close() }) // nothing left to lose: the run is over

	yaml := fmt.Sprintf("checks:\n  - name: web\n    type: http\n    url: http://%s/\n    interval: 5s\n", tln.Addr())
	cfg, err := config.Parse("bench.yaml", []byte(yaml), config.Options{CheckTypes: collectors.Types(), ChannelTypes: channel.Types()})
	if err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// part runs a long-running part until ctx ends; an error it returns is
	// logged, so a failed part does not pass as a slow one.
	part := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				log.Error("badges: part failed", "part", name, "err", err)
			}
		}()
	}
	db, err := storage.Open(filepath.Join(dir, "dashd.db"), storage.Options{Logger: log})
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() {
		if err := db.Close(); err != nil {
			log.Error("badges: close storage", "err", err)
		}
	})
	part("storage", db.Run)

	latest := state.New(cfg, time.Now())
	rec, err := flow.New(flow.Options{Store: db, Latest: latest, Logger: log})
	if err != nil {
		return fail(err)
	}
	runner := collectors.NewRunner(collectors.RunnerOptions{Logger: log, MaxStartDelay: time.Millisecond, Sink: rec})
	if err := runner.Apply(cfg.Checks); err != nil {
		return fail(err)
	}
	part("checks", runner.Run)

	assets, err := ui.LoadAssets()
	if err != nil {
		return fail(err)
	}
	h := hub.New()
	part("hub", h.Run)
	alerter, err := alert.New(alert.Options{Store: db, Recorder: rec, Events: rec.Subscribe("alerts", 256), Latest: latest, Checks: runner,
		NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe, Host: "bench", Logger: log})
	if err != nil {
		return fail(err)
	}
	part("alerts", alerter.Run)
	authn, err := auth.NewService(cfg.Auth, db, log)
	if err != nil {
		return fail(err)
	}
	part("auth", authn.Run)
	srv, err := dashdserver.New(dashdserver.Deps{
		Logger: log, Assets: assets, Version: "bench", Title: "bench",
		Latest: latest, Checks: runner, Store: db, Hub: h, Sparks: view.NewSparks(0, 0), Flow: rec,
		Alerts: alerter, Auth: authn,
	})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			log.Error("badges: serve", "err", err)
		}
	}()

	// Wait for the first check result, so the badge is "up", not "unknown".
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, ok := runner.Status("web"); ok && !st.LastCheck.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			return fail(errors.New("badges: the check did not run within 10s"))
		}
	}
	return ln.Addr().String(), func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("badges: shutdown", "err", err)
		}
		cancel()
		wg.Wait()
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}, nil
}
