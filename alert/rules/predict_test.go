package rules

import (
	"bytes"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

func TestFitAvail(t *testing.T) {
	now := t0.Add(6 * time.Hour)
	line := func(n int, step time.Duration, f func(h float64) float64) []storage.SeriesPoint {
		var pts []storage.SeriesPoint
		for i := range n {
			at := now.Add(-time.Duration(n-1-i) * step)
			pts = append(pts, storage.SeriesPoint{Time: at, Value: f(at.Sub(now).Hours())})
		}
		return pts
	}
	tests := []struct {
		name   string
		pts    []storage.SeriesPoint
		ok     bool
		fullIn float64 // seconds; +Inf: never
	}{
		{"falling line", line(361, time.Minute, func(h float64) float64 { return 80 - 5*h }), true, 16 * 3600},
		{"rising line", line(361, time.Minute, func(h float64) float64 { return 80 + 5*h }), true, math.Inf(1)},
		{"flat line", line(361, time.Minute, func(h float64) float64 { return 80 }), true, math.Inf(1)},
		{"already below zero", line(361, time.Minute, func(h float64) float64 { return -1 - h }), true, 0},
		{"too few points", line(MinFitPoints-1, time.Hour, func(h float64) float64 { return 80 - 5*h }), false, 0},
		{"too short a span", line(179, time.Minute, func(h float64) float64 { return 80 - 5*h }), false, 0},
		{"non-finite points skipped", append(line(361, time.Minute, func(h float64) float64 { return 80 - 5*h }),
			storage.SeriesPoint{Time: now, Value: math.NaN()}), true, 16 * 3600},
		{"no points", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fitAvail(tt.pts, now, 6*time.Hour)
			if f.ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%d points over %s)", f.ok, tt.ok, f.points, f.span)
			}
			if !tt.ok {
				return
			}
			if math.IsInf(tt.fullIn, 1) != math.IsInf(f.fullIn, 1) || !math.IsInf(tt.fullIn, 1) && !near(f.fullIn, tt.fullIn, 1) {
				t.Errorf("fullIn = %v s, want %v s", f.fullIn, tt.fullIn)
			}
		})
	}
}

// TestPredict_Storage fits series written to a real database.
func TestPredict_Storage(t *testing.T) {
	rule := config.Rule{Name: "fills", Metric: "fs_full_in", Within: dur(24 * time.Hour), Window: dur(6 * time.Hour)}
	tests := []struct {
		name     string
		from     time.Duration // first point written (the last is at 6h)
		avail    func(h float64) float64
		fires    bool
		wantFull time.Duration
	}{
		{"falling fast fires", 0, func(h float64) float64 { return 110 - 5*h }, true, 16 * time.Hour},
		{"falling to full within two hours fires", 0, func(h float64) float64 { return 500 - 70*h }, true, 80 * time.Hour / 70},
		{"falling slowly does not fire", 0, func(h float64) float64 { return 110 - 1*h }, false, 0},
		{"rising never fires", 0, func(h float64) float64 { return 50 + 5*h }, false, 0},
		{"flat never fires", 0, func(h float64) float64 { return 80 }, false, 0},
		{"flat with noise never fires", 0, func(h float64) float64 { return 80 + math.Sin(h*60) }, false, 0},
		{"too little history never fires", 4 * time.Hour, func(h float64) float64 { return 110 - 5*h }, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openHistory(t, t0.Add(6*time.Hour))
			writeAvail(t, db, "/data", tt.from, 6*time.Hour, time.Minute, tt.avail)
			e := mustNew(t, rule)
			got := e.Observe(sample(6*time.Hour, fs("/data", 50, 0), fs("/other", 50, 0)), db)
			if !tt.fires {
				if len(got) != 0 {
					t.Fatalf("fired: %+v", got)
				}
				// Nor later, as the window slides over what was written.
				for d := 6*time.Hour + time.Minute; d <= 7*time.Hour; d += time.Minute {
					if got := e.Observe(sample(d, fs("/data", 50, 0)), db); len(got) != 0 {
						t.Fatalf("at %s: fired: %+v", d, got)
					}
				}
				return
			}
			if len(got) != 1 || got[0].State != model.AlertFiring || got[0].Key != "rule:fills:/data" {
				t.Fatalf("got %v, want rule:fills:/data firing", brief(got))
			}
			tr := got[0]
			// 1 % plus the minute storage.Range's downsampling may shift
			// the points by (see refit).
			if want := tt.wantFull.Seconds(); !near(tr.Value, want, want*0.01+90) {
				t.Errorf("predicted full in %s, want %s within 1%% + 90s", time.Duration(tr.Value*float64(time.Second)), tt.wantFull)
			}
			if tr.Threshold != (24*time.Hour).Seconds() || tr.Labels["mountpoint"] != "/data" || !tr.Since.Equal(t0.Add(6*time.Hour)) ||
				!tr.Started.Equal(tr.Since) {
				t.Errorf("transition %+v", tr)
			}
			if want := "/data fills in " + human(time.Duration(tr.Value*float64(time.Second))); tr.Summary != want {
				t.Errorf("summary %q, want %q", tr.Summary, want)
			}
			if !strings.Contains(tr.Reason, "(linear fit of 360 points over 5h59m)") {
				t.Errorf("reason %q", tr.Reason)
			}
		})
	}
}

// TestPredict_ResolvesWhenTrendStops frees space after the alert fired:
// the prediction resolves once, and does not fire again.
func TestPredict_ResolvesWhenTrendStops(t *testing.T) {
	db := openHistory(t, t0.Add(12*time.Hour))
	writeAvail(t, db, "/data", 0, 12*time.Hour, time.Minute, func(h float64) float64 {
		if h <= 6 {
			return 110 - 5*h
		}
		return 200 // files deleted
	})
	e := mustNew(t, config.Rule{Name: "fills", Metric: "fs_full_in"})
	if got := brief(e.Observe(sample(6*time.Hour, fs("/data", 50, 0)), db)); !equal(got, []string{"firing rule:fills:/data"}) {
		t.Fatalf("at 6h: %v, want firing", got)
	}
	var resolved []Transition
	for d := 6*time.Hour + time.Minute; d <= 12*time.Hour; d += time.Minute {
		for _, tr := range e.Observe(sample(d, fs("/data", 50, 0)), db) {
			if tr.State != model.AlertResolved {
				t.Fatalf("at %s: %s again", d, tr.State)
			}
			resolved = append(resolved, tr)
		}
	}
	if len(resolved) != 1 {
		t.Fatalf("resolved %d times, want once", len(resolved))
	}
	if r := resolved[0].Reason; !strings.Contains(r, "no longer falling") && !strings.Contains(r, "beyond 30h") {
		t.Errorf("reason %q", r)
	}
	if s := resolved[0].Summary; s != "/data no longer filling up soon" {
		t.Errorf("summary %q", s)
	}
}

// TestPredict_Hysteresis moves Within around a prediction of 16 h: a
// firing prediction resolves only beyond Within*1.25.
func TestPredict_Hysteresis(t *testing.T) {
	db := openHistory(t, t0.Add(6*time.Hour))
	writeAvail(t, db, "/data", 0, 6*time.Hour, time.Minute, func(h float64) float64 { return 110 - 5*h })
	rule := func(within time.Duration) []config.Rule {
		return []config.Rule{{Name: "fills", Metric: "fs_full_in", Within: dur(within), Window: dur(6 * time.Hour)}}
	}
	steps := []struct {
		within time.Duration
		want   []string
	}{
		{24 * time.Hour, []string{"firing rule:fills:/data"}},
		{14 * time.Hour, nil}, // 16h < 14h*1.25: still firing
		{13 * time.Hour, nil}, // 16h < 16.25h
		{12 * time.Hour, []string{"resolved rule:fills:/data"}},
		{15 * time.Hour, nil}, // 16h is not within 15h
		{17 * time.Hour, []string{"firing rule:fills:/data"}},
	}
	e := mustNew(t)
	for i, st := range steps {
		if got := e.Apply(rule(st.within)); len(got) != 0 {
			t.Fatalf("within %s: Apply returned %v", st.within, brief(got))
		}
		got := e.Observe(sample(6*time.Hour+time.Duration(i)*time.Second, fs("/data", 50, 0)), db)
		if b := brief(got); !equal(b, st.want) {
			t.Fatalf("within %s: %v, want %v", st.within, b, st.want)
		}
		if st.within == 12*time.Hour && got[0].Reason != "predicted full in 16h, beyond 15h; fired for 3s" {
			t.Errorf("reason %q", got[0].Reason)
		}
	}
}

func TestPredict_RefitsOncePerMinute(t *testing.T) {
	db := openHistory(t, t0.Add(6*time.Hour))
	writeAvail(t, db, "/data", 0, 6*time.Hour, time.Minute, func(h float64) float64 { return 110 - 1*h })
	h := &countingHistory{h: db}
	e := mustNew(t, config.Rule{Name: "fills", Metric: "fs_full_in"})
	for d := 6 * time.Hour; d <= 6*time.Hour+3*time.Minute; d += time.Second {
		e.Observe(sample(d, fs("/data", 50, 0), fs("/var", 50, 0)), h)
	}
	if want := 2 * 4; h.calls != want { // at 0, 1, 2 and 3 minutes, per filesystem
		t.Errorf("%d history reads, want %d", h.calls, want)
	}
}

func TestPredict_NoHistory(t *testing.T) {
	closed, err := storage.Open(filepath.Join(t.TempDir(), "closed.db"), storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	tests := []struct {
		name string
		h    History
	}{
		{"nil history", nil},
		{"history failing", closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			e := mustNew(t, config.Rule{Name: "fills", Metric: "fs_full_in"})
			e.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			for d := time.Duration(0); d <= 5*time.Minute; d += 30 * time.Second {
				if got := e.Observe(sample(d, fs("/data", 99, 0)), tt.h); len(got) != 0 {
					t.Fatalf("at %s: %v", d, brief(got))
				}
			}
			n := strings.Count(logs.String(), "cannot read history")
			if want := map[bool]int{true: 0, false: 1}[tt.h == nil]; n != want {
				t.Errorf("%d warnings, want %d:\n%s", n, want, logs.String())
			}
		})
	}
}

// TestPredict_OverrideDisables checks fs_full_in overrides: disabled per
// glob, For changed.
func TestPredict_Overrides(t *testing.T) {
	db := openHistory(t, t0.Add(7*time.Hour))
	for _, m := range []string{"/data", "/tmp", "/slow"} {
		writeAvail(t, db, m, 0, 7*time.Hour, time.Minute, func(h float64) float64 { return 110 - 5*h })
	}
	e := mustNew(t, config.Rule{Name: "fills", Metric: "fs_full_in", Overrides: []config.RuleOverride{
		{Match: "/tmp", Disabled: true},
		{Match: "/slow", For: durp(10 * time.Minute), Above: ptr(1)}, // above: ignored for fs_full_in
	}})
	all := []fill{fs("/data", 50, 0), fs("/tmp", 50, 0), fs("/slow", 50, 0)}
	var fired []string
	for d := 6 * time.Hour; d <= 7*time.Hour; d += time.Minute {
		for _, tr := range e.Observe(sample(d, all...), db) {
			fired = append(fired, string(tr.State)+" "+tr.Key+" at "+(d-6*time.Hour).String())
		}
	}
	want := []string{"firing rule:fills:/data at 0s", "firing rule:fills:/slow at 10m0s"}
	if !equal(fired, want) {
		t.Errorf("transitions %v, want %v", fired, want)
	}
}
