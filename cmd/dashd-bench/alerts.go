package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dashd/dashd/model"
)

// alertsBench is one run of `dashd-bench alerts`: issue #14's figures for
// alert delivery, measured on the real dashd binary with http checks
// against a local target and webhook channels to a local receiver.
type alertsBench struct {
	bin     string
	logDir  string
	out     io.Writer
	changes int
	spacing time.Duration

	stormChecks int
	storm       time.Duration
	stormPeriod time.Duration

	kills      int
	killChecks int

	down time.Duration

	footprint time.Duration
	warmup    time.Duration
	rounds    int
}

// alertPhases are the parts of the run, in order.
var alertPhases = []string{"latency", "storm", "kill", "down", "footprint"}

// runAlerts measures alert delivery: latency, a storm, kill -9 during a
// storm, a receiver down then back, and the footprint alerting adds.
func runAlerts(args []string) error {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	b := &alertsBench{out: os.Stdout}
	fs.StringVar(&b.bin, "bin", "bin/dashd", "dashd binary to measure (build with make build)")
	only := fs.String("only", strings.Join(alertPhases, ","), "phases to run: "+strings.Join(alertPhases, ","))
	fs.IntVar(&b.changes, "changes", 200, "latency: state changes to time (group_wait 0s)")
	fs.DurationVar(&b.spacing, "spacing", 200*time.Millisecond, "latency: time between two changes (20 checks in turn)")
	fs.IntVar(&b.stormChecks, "storm-checks", 50, "storm: checks going down and up together")
	fs.DurationVar(&b.storm, "storm", time.Minute, "storm: how long they flip")
	fs.DurationVar(&b.stormPeriod, "storm-period", 10*time.Second, "storm: time between flips (each check within 1s of it)")
	fs.IntVar(&b.kills, "kills", 20, "kill: SIGKILLs at random moments during a storm")
	fs.IntVar(&b.killChecks, "kill-checks", 20, "kill: checks flipping in turn")
	fs.DurationVar(&b.down, "down", 10*time.Minute, "down: how long the receiver refuses connections")
	fs.DurationVar(&b.footprint, "footprint", time.Minute, "footprint: measurement window of each run")
	fs.DurationVar(&b.warmup, "warmup", 10*time.Second, "footprint: time before measuring")
	fs.IntVar(&b.rounds, "rounds", 1, "footprint: pairs of runs (without, with alerting), alternating")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(b.bin); err != nil {
		return fmt.Errorf("alerts: %w (build it with make build)", err)
	}
	want := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		p = strings.TrimSpace(p)
		if !strings.Contains(strings.Join(alertPhases, ","), p) || p == "" {
			return fmt.Errorf("alerts: unknown phase %q in -only (phases: %s)", p, strings.Join(alertPhases, ","))
		}
		want[p] = true
	}
	var err error
	if b.logDir, err = os.MkdirTemp("", "dashd-bench-alerts-"); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "dashd-bench alerts: %s, daemon logs in %s\n", b.bin, b.logDir)
	phases := map[string]func() error{
		"latency": b.runLatency, "storm": b.runStorm, "kill": b.runKills, "down": b.runDown, "footprint": b.runAlertFootprint,
	}
	var failed error
	for _, name := range alertPhases {
		if !want[name] {
			continue
		}
		start := time.Now()
		if err := phases[name](); err != nil {
			failed = errors.Join(failed, fmt.Errorf("%s: %w", name, err))
			fmt.Fprintf(b.out, "  FAILED: %v\n", err)
		}
		fmt.Fprintf(b.out, "  (%s in %s)\n\n", name, time.Since(start).Round(time.Second))
	}
	if failed == nil {
		os.RemoveAll(b.logDir)
	}
	return failed
}

// alertSetup is one phase's target, receiver and daemon.
type alertSetup struct {
	target *alertTarget
	hook   *alertHook
	d      *alertDaemon
	log    *os.File
}

// start builds a phase's parts: names checks every interval, the alerts
// section from alerts(hook).
func (b *alertsBench) start(phase string, names []string, interval time.Duration, alerts func(*alertHook) string) (*alertSetup, error) {
	s := &alertSetup{}
	var err error
	if s.target, err = newAlertTarget(); err != nil {
		return nil, err
	}
	if s.hook, err = newAlertHook(); err != nil {
		s.target.close()
		return nil, err
	}
	dir := filepath.Join(b.logDir, phase)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.close()
		return nil, err
	}
	if s.log, err = os.Create(filepath.Join(dir, "dashd.log")); err != nil {
		s.close()
		return nil, err
	}
	if s.d, err = startAlertDaemon(b.bin, dir, s.target.checksYAML(interval, names)+alerts(s.hook), s.log); err != nil {
		s.close()
		return nil, err
	}
	if err := s.d.waitStates(model.StateUp, names, 30*time.Second); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// stop stops the daemon cleanly (an unclean exit is an error) and closes
// the rest.
func (s *alertSetup) stop() error {
	err := s.d.stop()
	s.d = nil
	s.close()
	return err
}

func (s *alertSetup) close() {
	if s.d != nil {
		s.d.kill()
	}
	if s.hook != nil {
		s.hook.down()
	}
	if s.target != nil {
		s.target.close()
	}
	if s.log != nil {
		s.log.Close()
	}
}

// alertFlipper changes checks in the background until stopped.
type alertFlipper struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// alertFlipInTurn toggles names one after the other, every, in a shuffled
// order: each check changes every len(names) x every.
func alertFlipInTurn(t *alertTarget, names []string, every time.Duration) *alertFlipper {
	f := &alertFlipper{stop: make(chan struct{})}
	order := append([]string(nil), names...)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-f.stop:
				return
			case <-tick.C:
				t.toggle(order[i%len(order)])
			}
		}
	}()
	return f
}

func (f *alertFlipper) end() {
	close(f.stop)
	f.wg.Wait()
}

// runLatency times changes one at a time from the state change (the
// alert's start or end, the time the check's result says) to the
// webhook receiver, with group_wait 0s.
func (b *alertsBench) runLatency() error {
	names := alertCheckNames("lat-", 20)
	fmt.Fprintf(b.out, "latency: %d changes, one every %s across %d checks (interval 1s, fail_after 1), group_wait 0s\n",
		b.changes, b.spacing, len(names))
	s, err := b.start("latency", names, time.Second, func(h *alertHook) string {
		return alertWebhooks(h, "  group_wait: 0s\n", "/hook")
	})
	if err != nil {
		return err
	}
	defer s.close()
	for i := range b.changes {
		s.target.toggle(names[i%len(names)])
		time.Sleep(b.spacing)
	}
	var dc alertDeliveries
	var events []model.Event
	err = alertWait(time.Minute, "every change delivered", func() (bool, error) {
		var err error
		if events, err = s.d.events(); err != nil {
			return false, err
		}
		dc = countAlertDeliveries(events, s.hook.accepted("/hook"))
		seen := 0 // the flips the checks saw
		for _, e := range events {
			if e.Kind == model.EventCheck && e.From != model.StateUnknown {
				seen++
			}
		}
		return seen >= b.changes && len(dc.missed) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w (%d of %d due changes missed)", err, len(dc.missed), dc.due)
	}
	var delivery, endToEnd []time.Duration
	flaps := 0
	for _, c := range alertChangesDue(events) {
		if strings.HasSuffix(c.check, " flapping") {
			flaps++ // each check changes often enough to flap: its own alert, not timed
			continue
		}
		at := dc.first[c.key()]
		delivery = append(delivery, at.Sub(c.at))
		if f, ok := s.target.flipBefore(c.check, c.at); ok {
			endToEnd = append(endToEnd, at.Sub(f))
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(b.out, "  changes timed          %d (%d messages; %d flapping alerts besides, not timed)\n", len(delivery), dc.messages, flaps)
	fmt.Fprintf(b.out, "  state change -> hook   p50 %s  p90 %s  p99 %s  max %s   (goal p99 < 250 ms)\n",
		ms(alertQuantile(delivery, .5)), ms(alertQuantile(delivery, .9)), ms(alertQuantile(delivery, .99)), ms(alertQuantile(delivery, 1)))
	fmt.Fprintf(b.out, "  target flip -> hook    p50 %s  p99 %s   (adds the wait for the next check run, interval 1s)\n",
		ms(alertQuantile(endToEnd, .5)), ms(alertQuantile(endToEnd, .99)))
	if p99 := alertQuantile(delivery, .99); p99 >= 250*time.Millisecond {
		fmt.Fprintf(b.out, "  GOAL MISSED: p99 %s\n", ms(p99))
	}
	return s.stop()
}

// runStorm sends every check down and up together for a while, with the
// default group_wait, to two channels.
func (b *alertsBench) runStorm() error {
	names := alertCheckNames("storm-", b.stormChecks)
	fmt.Fprintf(b.out, "storm: %d checks all going down, then up, every %s (each within 1s) for %s; group_wait default (5s), two channels\n",
		len(names), b.stormPeriod, b.storm)
	s, err := b.start("storm", names, time.Second, func(h *alertHook) string {
		return alertWebhooks(h, "", "/ops-a", "/ops-b")
	})
	if err != nil {
		return err
	}
	defer s.close()
	start := time.Now()
	for k := 0; time.Duration(k)*b.stormPeriod < b.storm; k++ {
		time.Sleep(time.Until(start.Add(time.Duration(k) * b.stormPeriod)))
		down := k%2 == 0
		for _, n := range names {
			time.AfterFunc(time.Duration(rand.Int64N(int64(time.Second))), func() { s.target.set(down, n) })
		}
	}
	time.Sleep(time.Until(start.Add(b.storm)) + time.Second) // the last flip's stragglers
	s.target.set(false, names...)
	if err := s.d.waitStates(model.StateUp, names, 30*time.Second); err != nil {
		return err
	}
	if err := s.d.drain(2 * time.Minute); err != nil {
		return err
	}
	events, err := s.d.events()
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  check events stored    %d\n", alertCheckEvents(events))
	var problems []string
	for _, ch := range []string{"ops-a", "ops-b"} {
		dc := countAlertDeliveries(events, s.hook.accepted("/"+ch))
		fmt.Fprintf(b.out, "  channel %-14s %d messages carrying %d alerts, for %d changes due; missed %d, duplicates %d   (goal: a handful of messages, none missed)\n",
			ch, dc.messages, dc.alerts, dc.due, len(dc.missed), dc.dupMessages)
		if len(dc.missed) > 0 {
			problems = append(problems, fmt.Sprintf("%s missed %v", ch, dc.missed))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return s.stop()
}

func alertCheckEvents(events []model.Event) int {
	n := 0
	for _, e := range events {
		if e.Kind == model.EventCheck {
			n++
		}
	}
	return n
}

// runKills kills dashd with SIGKILL at random moments while checks flip,
// restarting it on the same data file each time; then counts.
func (b *alertsBench) runKills() error {
	names := alertCheckNames("kill-", b.killChecks)
	every := 350 * time.Millisecond
	fmt.Fprintf(b.out, "kill -9: %d SIGKILLs 1-5 s apart while %d checks flip in turn (one every %s); group_wait default (5s)\n",
		b.kills, len(names), every)
	s, err := b.start("kill", names, time.Second, func(h *alertHook) string {
		return alertWebhooks(h, "", "/hook")
	})
	if err != nil {
		return err
	}
	defer s.close()
	f := alertFlipInTurn(s.target, names, every)
	var restarts []time.Duration
	for range b.kills {
		time.Sleep(time.Second + time.Duration(rand.Int64N(int64(4*time.Second))))
		s.d.kill()
		t0 := time.Now()
		if err := s.d.start(); err != nil {
			f.end()
			return fmt.Errorf("restart after kill: %w", err)
		}
		restarts = append(restarts, time.Since(t0))
	}
	time.Sleep(3 * time.Second)
	f.end()
	s.target.set(false, names...)
	if err := s.d.waitStates(model.StateUp, names, 30*time.Second); err != nil {
		return err
	}
	if err := s.d.drain(2 * time.Minute); err != nil {
		return err
	}
	events, err := s.d.events()
	if err != nil {
		return err
	}
	firing, flapping, err := s.d.firing()
	if err != nil {
		return err
	}
	dc := countAlertDeliveries(events, s.hook.accepted("/hook"))
	fmt.Fprintf(b.out, "  kills                  %d (restart to answering HTTP: p50 %s, max %s)\n", len(restarts),
		alertQuantile(restarts, .5).Round(time.Millisecond), alertQuantile(restarts, 1).Round(time.Millisecond))
	fmt.Fprintf(b.out, "  check events stored    %d -> %d changes due\n", alertCheckEvents(events), dc.due)
	fmt.Fprintf(b.out, "  delivered              %d messages carrying %d alerts; missed %d\n", dc.messages, dc.alerts, len(dc.missed))
	fmt.Fprintf(b.out, "  duplicates             %d messages (%.2f per kill; goal <= 1), %d alert changes sent again\n",
		dc.dupMessages, float64(dc.dupMessages)/float64(max(len(restarts), 1)), dc.dupAlerts)
	fmt.Fprintf(b.out, "  fired again on restart %d; still firing with every check up: %d %v (and %d flapping alerts: a check flaps for 10m)\n",
		len(dc.refired), len(firing), firing, len(flapping))
	var problems []string
	if len(dc.missed) > 0 {
		problems = append(problems, fmt.Sprintf("missed %v", dc.missed))
	}
	if len(firing) > 0 {
		problems = append(problems, fmt.Sprintf("alerts still firing: %v", firing))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return s.stop()
}

// runDown keeps the receiver down (connections refused) while checks
// change, then brings it back and times the backlog's delivery.
func (b *alertsBench) runDown() error {
	names := alertCheckNames("down-", 10)
	every := 3 * time.Second
	fmt.Fprintf(b.out, "receiver down: refused for %s while %d checks change in turn (one every %s); group_wait default (5s)\n",
		b.down, len(names), every)
	s, err := b.start("down", names, time.Second, func(h *alertHook) string {
		return alertWebhooks(h, "", "/hook")
	})
	if err != nil {
		return err
	}
	defer s.close()
	s.target.toggle(names[0])
	if err := alertWait(30*time.Second, "the first message", func() (bool, error) { return len(s.hook.accepted("/hook")) > 0, nil }); err != nil {
		return err
	}
	s.hook.down()
	f := alertFlipInTurn(s.target, names, every)
	maxPending, lastError := 0, ""
	for end := time.Now().Add(b.down); time.Now().Before(end); {
		time.Sleep(min(5*time.Second, time.Until(end)))
		if chs, err := s.d.channels(); err == nil {
			maxPending = max(maxPending, chs["hook"].Pending)
			lastError = chs["hook"].LastError
		}
	}
	f.end()
	if err := s.hook.up(); err != nil {
		return err
	}
	back := time.Now()
	if err := s.d.drain(15 * time.Minute); err != nil {
		return err
	}
	events, err := s.d.events()
	if err != nil {
		return err
	}
	reqs := s.hook.accepted("/hook")
	var firstBack time.Time
	after := 0
	for _, r := range reqs {
		if r.at.After(back) {
			after++
			if firstBack.IsZero() {
				firstBack = r.at
			}
		}
	}
	last := reqs[len(reqs)-1].at
	dc := countAlertDeliveries(events, reqs)
	fmt.Fprintf(b.out, "  while down             pending up to %d; last_error %q\n", maxPending, lastError)
	fmt.Fprintf(b.out, "  back -> first message  %s (the retry backoff: 1s doubling to 5m, +-20%%)\n", firstBack.Sub(back).Round(time.Millisecond))
	fmt.Fprintf(b.out, "  back -> all delivered  %s, %d messages\n", last.Sub(back).Round(time.Millisecond), after)
	fmt.Fprintf(b.out, "  accounted              %d changes due, missed %d, duplicates %d, out of order %d\n",
		dc.due, len(dc.missed), dc.dupMessages, len(dc.disorder))
	var problems []string
	if len(dc.missed) > 0 {
		problems = append(problems, fmt.Sprintf("missed %v", dc.missed))
	}
	if len(dc.disorder) > 0 {
		problems = append(problems, fmt.Sprintf("out of order: %v", dc.disorder))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return s.stop()
}
