package ui

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func render(t *testing.T, c templ.Component) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func TestSparkline_Golden(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   SparkView
	}{
		{"spark-empty.svg", SparkView{ID: "spark-cpu", Label: "CPU"}},
		{"spark-ramp.svg", SparkView{ID: "spark-cpu", Values: []float64{0, 25, 50, 75, 100}, Min: 0, Max: 100, Label: "CPU"}},
		{"spark-gaps-fit.svg", SparkView{ID: "spark-net", Values: []float64{nan, nan, 10, 30, nan, 20, 40}, Label: "Network <eth0>"}},
		{"spark-clamped.svg", SparkView{Values: []float64{-5, 50, 150}, Min: 0, Max: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Assert(t, tt.name, []byte(SparklineSVG(tt.in)))
		})
	}
}

func TestChart_Golden(t *testing.T) {
	nan := math.NaN()
	var pts []ChartPoint
	var band []ChartBand
	for i := 0; i < 12; i++ {
		v := 20 + 10*math.Sin(float64(i))
		if i == 6 {
			v = nan // the check was down: a gap
		}
		at := t0.Add(time.Duration(i) * 5 * time.Minute)
		pts = append(pts, ChartPoint{Time: at, Value: v})
		if !math.IsNaN(v) {
			band = append(band, ChartBand{Time: at, Min: v - 3, Max: v + 5})
		}
	}
	tests := []struct {
		name string
		in   ChartView
	}{
		{"chart-empty.html", ChartView{ID: "c", Title: "web latency", Unit: "ms", From: t0, To: t0.Add(time.Hour)}},
		{"chart-hour.html", ChartView{ID: "c", Title: "web latency, last 1h", Unit: "ms", From: t0, To: t0.Add(time.Hour), Points: pts, Band: band}},
		{"chart-single.html", ChartView{ID: "c", Title: "one", Unit: "ms", From: t0, To: t0.Add(time.Hour), Points: pts[:1]}},
		{"chart-week-seconds.html", ChartView{Title: "slow", Unit: "ms", From: t0, To: t0.Add(7 * 24 * time.Hour),
			Points: []ChartPoint{{t0.Add(time.Hour), 1200}, {t0.Add(50 * time.Hour), 4800}, {t0.Add(150 * time.Hour), 900}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Assert(t, tt.name, []byte(ChartHTML(tt.in)))
		})
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 1.3, "0 0.5 1 1.5"},
		{0, 97, "0 25 50 75 100"},
		{0, 4800, "0 2000 4000 6000"},
		{0, 0, "0 0.25 0.5 0.75 1"},
	}
	for _, tt := range tests {
		var parts []string
		for _, v := range NiceTicks(tt.lo, tt.hi, 4) {
			parts = append(parts, fmtTick(v, ""))
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("NiceTicks(%v, %v) = %s, want %s", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestBadges_Golden(t *testing.T) {
	tests := []struct {
		name string
		c    templ.Component
	}{
		{"status-all-up.html", StatusBadge(OverallStatus{Up: 3})},
		{"status-none.html", StatusBadge(OverallStatus{})},
		{"status-down-degraded.html", StatusBadge(OverallStatus{Up: 1, Degraded: 2, Down: 1})},
		{"status-pending.html", StatusBadge(OverallStatus{Up: 1, Unknown: 1})},
		{"check-down.html", CheckBadge(CheckBadgeView{Name: "api.v2", State: model.StateDown, Reason: `HTTP 503 <"x">`})},
		{"check-up.html", CheckBadge(CheckBadgeView{Name: "web", State: model.StateUp})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden.Assert(t, tt.name, render(t, tt.c)) })
	}
}

func TestSlugAndSignalKey(t *testing.T) {
	tests := []struct{ in, slug, key string }{
		{"web", "web", "fswebx"},
		{"api.v2", "api_2ev2", "fsapiv2x"},
		{"/", "_2f", "fsx"},
		{"/a-b", "_2fa-b", "fsabx"},
	}
	keys := map[string]bool{}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.slug {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.slug)
		}
		k := SignalKey("fs", tt.in)
		if !strings.HasPrefix(k, tt.key) || strings.Contains(k, "__") || strings.ContainsAny(k, "-./") {
			t.Errorf("SignalKey(%q) = %q, want prefix %q and only letters/digits", tt.in, k, tt.key)
		}
		if keys[k] {
			t.Errorf("SignalKey(%q) = %q collides", tt.in, k)
		}
		keys[k] = true
	}
}

// dashboardFixture is a dashboard with every kind of part, including hostile text.
func dashboardFixture() (Page, ChromeView, DashboardView) {
	a, _ := LoadAssets()
	p := Page{Title: "dashd", Version: "1.2.3", Hostname: "box", Assets: a}
	ch := ChromeView{Status: OverallStatus{Up: 1, Down: 1}, Unread: 1, DisplayName: "ana", Stream: "/api/events", Nav: "dashboard",
		Notifications: []NotificationRow{{ID: 7, At: t0, When: "15:00:00", Title: "api is down", Body: "HTTP 503", Level: model.StateDown, Check: "api", Unread: true}}}
	v := DashboardView{
		Host:   HostView{Hostname: "box", OS: "Debian 12.5", Kernel: "6.1.0", Arch: "x86_64", CPUs: 4, Uptime: "3d 4h", Version: "1.2.3"},
		Status: ch.Status,
		Stats: []StatCard{
			{Key: "cpu", Title: "CPU", Hint: "4 cores", Value: StatValue{Val: "12%", Sub: "user 8% · sys 4%", Pct: 12},
				Spark: SparkView{ID: SparkID("cpu"), Values: []float64{10, 12}, Min: 0, Max: 100, Label: "CPU"}},
			{Key: "mem", Title: "Memory", Meter: true, Value: StatValue{Val: "91%", Sub: "7 GiB used", Pct: 91, Lvl: "warn"},
				Spark: SparkView{ID: SparkID("mem"), Values: []float64{90, 91}, Min: 0, Max: 100}},
		},
		Groups: []CheckGroup{{Name: "edge", Worst: model.StateDown, Checks: []CheckRow{
			{Name: "api", Group: "edge", State: model.StateDown, Reason: `<script>alert(1)</script>`, Latency: "12 ms", Since: "5m", SinceAt: t0},
			{Name: "web", Group: "edge", State: model.StateUp, Latency: "3 ms", Since: "now", SinceAt: t0, Beats: NewHeartbeat([]Beat{
				{At: t0.Add(-time.Minute), State: model.StateDown}, {At: t0, State: model.StateUp, Latency: 3 * time.Millisecond}})},
		}}},
		Top:      TopView{ByCPU: []ProcRow{{PID: 1, Name: "init", User: "root", CPU: "0.1%", RSS: "12 MiB"}}},
		Events:   []EventRow{{ID: 1, At: t0, When: "15:00:00", Check: "api", Text: "up → down: HTTP 503", State: model.StateDown, Kind: "check"}},
		Problems: []string{"config.yaml:3:5: checks[0].interval: must be between 1s and 24h"},
	}
	return p, ch, v
}

func TestDashboardPage_Golden(t *testing.T) {
	p, ch, v := dashboardFixture()
	if p.Assets == nil {
		t.Skip("SKIPPED: the Datastar client is not embedded (run make assets)")
	}
	got := render(t, DashboardPage(p, ch, v))
	if bytes.Contains(got, []byte("<script>alert")) {
		t.Fatal("a check reason was not escaped")
	}
	// Asset URLs carry content hashes: keep the golden file about the markup.
	got = regexp.MustCompile(`/static/([a-z/]+)\.[0-9a-f]{12}\.`).ReplaceAll(got, []byte("/static/$1.HASH."))
	golden.Assert(t, "dashboard.html", got)
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatBytes(512), "512 B"},
		{FormatBytes(1536), "1.50 KiB"},
		{FormatBytes(25.2 * (1 << 30)), "25.2 GiB"},
		{FormatPct(3.14), "3.1%"},
		{FormatPct(42.6), "43%"},
		{FormatUptimePct(99.987), "99.98%"},
		{FormatUptimePct(100), "100%"},
		{FormatUptimePct(math.NaN()), "no data"},
		{FormatLatency(850 * time.Microsecond), "850 µs"},
		{FormatLatency(12 * time.Millisecond), "12 ms"},
		{FormatLatency(12 * time.Second), "12.0 s"},
		{FormatAge(3 * time.Second), "now"},
		{FormatAge(90 * time.Minute), "1h"},
		{FormatDuration(76 * time.Hour), "3d 4h"},
		{FormatWhen(t0, t0.Add(time.Hour)), "15:00:00"},
		{FormatWhen(t0, t0.Add(48*time.Hour)), "Mar 14 15:00"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestStatsColumns(t *testing.T) {
	tests := []struct {
		cards int
		want  string
	}{
		// 9 cards: 5+4 on room for 5, 6 or 8 columns, 3x3 on 3 or 4.
		{9, "--c2:2;--c3:3;--c4:3;--c5:5;--c6:5;--c7:5;--c8:5;"},
		{8, "--c2:2;--c3:3;--c4:4;--c5:4;--c6:4;--c7:4;--c8:8;"},
		{11, "--c2:2;--c3:3;--c4:4;--c5:4;--c6:6;--c7:6;--c8:6;"},
		{3, "--c2:2;--c3:3;--c4:3;--c5:3;--c6:3;--c7:3;--c8:3;"},
		{0, "--c2:2;--c3:3;--c4:4;--c5:5;--c6:6;--c7:7;--c8:8;"},
	}
	for _, tt := range tests {
		if got := statsColumns(tt.cards); got != tt.want {
			t.Errorf("statsColumns(%d) = %s, want %s", tt.cards, got, tt.want)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	var h Heartbeat
	for i := range HeartbeatLen + 3 {
		h.Push(Beat{At: t0.Add(time.Duration(i) * time.Second), State: model.StateUp})
	}
	bs := h.List()
	if len(bs) != HeartbeatLen || h.Seq != HeartbeatLen+3 || !bs[0].At.Equal(t0.Add(3*time.Second)) || !bs[len(bs)-1].At.Equal(t0.Add((HeartbeatLen+2)*time.Second)) {
		t.Fatalf("after %d pushes: %d beats (seq %d) from %s to %s; want the newest %d", HeartbeatLen+3, len(bs), h.Seq, bs[0].At, bs[len(bs)-1].At, HeartbeatLen)
	}
	strip := NewHeartbeat([]Beat{
		{At: t0, State: model.StateUp, Latency: 12 * time.Millisecond},
		{At: t0.Add(time.Second), State: model.StateDegraded, Latency: 1500 * time.Millisecond},
		{At: t0.Add(2 * time.Second), State: model.StateDown, Latency: 100 * time.Microsecond},
		{At: t0.Add(3 * time.Second), State: model.StateUnknown},
	})
	golden.Assert(t, "heartbeat.html", render(t, HeartbeatStrip("api.v2", strip)))
}

// TestNiceTicks_Flat: a flat or near-flat series gets round, readable
// ticks (no axis labelled in billionths); a normal range covers lo..hi.
func TestNiceTicks_Flat(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		want   []float64
	}{
		{"flat zero", 0, 0, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{"float noise", 0, 1e-9, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{"percent", 0, 87, []float64{0, 20, 40, 60, 80, 100}},
	}
	for _, tt := range tests {
		got := NiceTicks(tt.lo, tt.hi, 5)
		if len(got) != len(tt.want) {
			t.Errorf("%s: ticks %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-9 {
				t.Errorf("%s: ticks %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

// TestHeartbeat_PushLeavesCopies: a copy of a strip keeps its beats when
// the strip is pushed to (rows built on earlier ticks share arrays).
func TestHeartbeat_PushLeavesCopies(t *testing.T) {
	h := NewHeartbeat([]Beat{{At: t0, State: model.StateUp}})
	old := h
	h.Push(Beat{At: t0.Add(time.Second), State: model.StateDown})
	if got := old.List(); len(got) != 1 || got[0].State != model.StateUp {
		t.Errorf("the copy now lists %+v, want its one up beat", got)
	}
	if got := h.List(); len(got) != 2 || got[1].State != model.StateDown || h.Seq != 1 {
		t.Errorf("pushed strip lists %+v (seq %d), want up then down", got, h.Seq)
	}
	if h == old {
		t.Error("a pushed strip compares equal to its copy from before")
	}
	for range HeartbeatLen + 5 {
		before := h.List()
		first := before[0]
		h.Push(Beat{At: t0, State: model.StateUp})
		if before[0] != first {
			t.Fatal("Push wrote into an array a copy shares")
		}
	}
	if l := h.List(); len(l) != HeartbeatLen || cap(l) != len(l) {
		t.Errorf("full strip: len %d cap %d, want %d and no room to append", len(l), cap(l), HeartbeatLen)
	}
}
