package view

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// writeResults stores results of check "web", one per step back from t0,
// the oldest age ago; states[i%len(states)] picks each one's state.
func writeResults(t *testing.T, db *storage.DB, age, step time.Duration, states ...model.State) {
	t.Helper()
	i := 0
	for at := t0.Add(-age); !at.After(t0); at = at.Add(step) {
		r := model.Result{Check: "web", Time: at, State: states[i%len(states)], Latency: 20 * time.Millisecond}
		if r.State == model.StateDown {
			r.Latency, r.Reason = 150*time.Microsecond, "connect: connection refused"
		}
		if err := db.WriteResult(r); err != nil {
			t.Fatal(err)
		}
		// The latency series, as dashd's flow records it: every result's
		// latency, failed ones too.
		if err := db.WriteSample(model.Sample{Time: at, Points: []model.Point{{Series: series.CheckLatency("web"),
			Value: float64(r.Latency) / float64(time.Millisecond)}}}); err != nil {
			t.Fatal(err)
		}
		i++
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFitRange(t *testing.T) {
	tests := []struct {
		age  time.Duration // 0: no result yet
		want string
	}{
		{0, "1h"},
		{4 * time.Minute, "1h"},
		{59 * time.Minute, "1h"},
		{3 * time.Hour, "24h"},
		{2 * 24 * time.Hour, "7d"},
		{20 * 24 * time.Hour, "30d"},
		{200 * 24 * time.Hour, "30d"},
	}
	for _, tt := range tests {
		var first time.Time
		if tt.age > 0 {
			first = t0.Add(-tt.age)
		}
		if got := FitRange(first, t0); got != tt.want {
			t.Errorf("FitRange(%s old) = %s, want %s", tt.age, got, tt.want)
		}
	}
}

// TestCheckPage_YoungCheck: a check with minutes of history opens on a
// chart that fits its data, and its uptime says since when instead of
// claiming 24h, 7d, 30d and 90d.
func TestCheckPage_YoungCheck(t *testing.T) {
	tests := []struct {
		name       string
		age        time.Duration
		rng        string
		wantRange  string
		wantLabels []string
		minFrom    time.Time // the chart starts at or after this
	}{
		{"4 minutes, default range", 4 * time.Minute, "", "1h", []string{"since 14:56:00"}, t0.Add(-11 * time.Minute)},
		{"4 minutes, asked for 24h", 4 * time.Minute, "24h", "24h", []string{"since 14:56:00"}, t0.Add(-24 * time.Hour)},
		{"3 hours", 3 * time.Hour, "", "24h", []string{"since 12:00:00"}, t0.Add(-3*time.Hour - 10*time.Minute)},
		{"2 days", 2 * 24 * time.Hour, "", "7d", []string{"24 hours", "since Mar 12 15:00"}, t0.Add(-7 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			step := max(tt.age/40, time.Second)
			writeResults(t, db, tt.age, step, model.StateUp)
			st := collectors.Status{Name: "web", Type: "http", State: model.StateUp, Interval: step}
			v, err := CheckPage(db, st, "", tt.rng, t0)
			if err != nil {
				t.Fatal(err)
			}
			if v.Range != tt.wantRange || v.Fitted != (tt.rng == "") {
				t.Errorf("range %q (fitted %v), want %q", v.Range, v.Fitted, tt.wantRange)
			}
			// The page's stream asks for what the page asked for: a
			// reconnect fits the chart again.
			assets, err := ui.LoadAssets()
			if err != nil || assets == nil {
				t.Skip("SKIPPED: the Datastar client is not embedded (run make assets)")
			}
			if page := render(t, ui.CheckDetailPage(ui.Page{Assets: assets}, ui.ChromeView{}, v)); !strings.Contains(page, "&#34;range&#34;:&#34;"+tt.rng+"&#34;") {
				t.Errorf("page signals lack range %q", tt.rng)
			}
			var labels []string
			for _, w := range v.Uptime {
				labels = append(labels, w.Label)
				if math.IsNaN(w.Pct) || w.Pct != 100 {
					t.Errorf("%s: %v%%, want 100", w.Label, w.Pct)
				}
			}
			if strings.Join(labels, ",") != strings.Join(tt.wantLabels, ",") {
				t.Errorf("uptime labels %q, want %q", labels, tt.wantLabels)
			}
			if last := v.Uptime[len(v.Uptime)-1]; !last.Since.Equal(t0.Add(-tt.age)) {
				t.Errorf("since %s, want the first result %s", last.Since, t0.Add(-tt.age))
			}
			if v.Chart.From.Before(tt.minFrom) || !v.Chart.To.Equal(t0) {
				t.Errorf("chart %s..%s, want it to start at or after %s", v.Chart.From, v.Chart.To, tt.minFrom)
			}
		})
	}
}

// TestCheckPage_FailuresNotPlotted: failed runs (a refused connection in
// microseconds) are no latency: the line breaks there and each failure is
// a mark on the time axis.
func TestCheckPage_FailuresNotPlotted(t *testing.T) {
	db := openDB(t)
	// 40 minutes of 30 s results, every fourth one refused.
	writeResults(t, db, 40*time.Minute, 30*time.Second, model.StateDown, model.StateUp, model.StateUp, model.StateUp)
	st := collectors.Status{Name: "web", Type: "tcp", State: model.StateUp, Interval: 30 * time.Second}
	v, err := CheckPage(db, st, "", "1h", t0)
	if err != nil {
		t.Fatal(err)
	}
	gaps, plotted := 0, 0
	for _, p := range v.Chart.Points {
		switch {
		case math.IsNaN(p.Value):
			gaps++
		case p.Value < 1:
			t.Errorf("a failed run is plotted as %.3f ms at %s", p.Value, p.Time)
		default:
			plotted++
		}
	}
	for _, b := range v.Chart.Band {
		if b.Min < 1 {
			t.Errorf("the band reaches a failed run's latency: %+v", b)
		}
	}
	if plotted != 60 || gaps < 19 {
		t.Errorf("%d points, %d gaps; want the 60 successes, broken at each of the 21 failures", plotted, gaps)
	}
	if len(v.Fails) != 21 {
		t.Fatalf("%d failure marks, want 21", len(v.Fails))
	}
	f := v.Fails[0]
	if !f.At.Equal(t0.Add(-40*time.Minute)) || f.Pct != 100.0/3 || !strings.Contains(f.Title, "connection refused") {
		t.Errorf("first mark %+v, want 40 min ago at 33.3%% of the hour, with its reason", f)
	}
	page := render(t, ui.CheckLatency(v.Chart, v.Fails))
	if n := strings.Count(page, `<i style="left:`); n != 21 {
		t.Errorf("%d marks rendered, want 21:\n%s", n, page)
	}
}

// TestCheckPage_AllFailed: a check that never answered has no latency
// chart, and says why instead of "no results".
func TestCheckPage_AllFailed(t *testing.T) {
	db := openDB(t)
	writeResults(t, db, 5*time.Minute, 30*time.Second, model.StateDown)
	v, err := CheckPage(db, collectors.Status{Name: "web", Type: "tcp", State: model.StateDown}, "", "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Chart.Points) != 0 || len(v.Fails) != 11 || !strings.Contains(v.Chart.Empty, "every run failed") {
		t.Errorf("points %d, marks %d, empty text %q", len(v.Chart.Points), len(v.Fails), v.Chart.Empty)
	}
}

func TestHeartbeatOf(t *testing.T) {
	var rs []model.Result // newest first, as LastResults returns them
	for i := range 40 {
		rs = append(rs, model.Result{Check: "web", Time: t0.Add(-time.Duration(i) * time.Second), State: model.StateUp})
	}
	tests := []struct {
		n     int
		wantN int
	}{{0, 0}, {1, 1}, {30, 30}, {40, 30}}
	for _, tt := range tests {
		h := HeartbeatOf(rs[:tt.n])
		bs := h.List()
		if len(bs) != tt.wantN {
			t.Errorf("%d results: %d beats, want %d", tt.n, len(bs), tt.wantN)
			continue
		}
		if tt.n > 0 && (!bs[len(bs)-1].At.Equal(t0) || !bs[0].At.Before(bs[len(bs)-1].At) && len(bs) > 1) {
			t.Errorf("%d results: beats %v..%v, want oldest first, newest %s last", tt.n, bs[0].At, bs[len(bs)-1].At, t0)
		}
	}
}

func render(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
