package ui

import (
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// Charts are plain SVG strings built here, server side: no chart library
// runs in the browser. Colours come from CSS classes (app.css) so one SVG
// reads well in both themes; numbers are rounded to one decimal to keep the
// bytes that go over the wire every few seconds small.

// Sparkline geometry, in viewBox units; the element is stretched by CSS and
// its stroke does not scale. With the default 60 points x advances by
// exactly 2 and y is a whole number: sparklines are the bytes an idle
// stream carries most often, so every byte counts.
const (
	sparkW = 118
	sparkH = 100
)

// SparkView is one sparkline: Values oldest first, NaN for gaps. Min and Max
// fix the vertical scale; Max <= Min means "fit to the data".
type SparkView struct {
	ID     string
	Values []float64
	Min    float64
	Max    float64
	// Label describes the line for screen readers ("CPU busy, last 5 minutes").
	Label string
}

// SparklineSVG renders a compact area sparkline: one path whose ends and
// bottom lie outside the viewBox (clipped), so the one path is both the
// line and the filled area. Coordinates after the first are implicit
// line-tos ("M0 5 2 7 4 6").
func SparklineSVG(s SparkView) string {
	var b strings.Builder
	b.Grow(96 + len(s.Values)*7)
	b.WriteString(`<svg`)
	if s.ID != "" {
		b.WriteString(` id="`)
		b.WriteString(html.EscapeString(s.ID))
		b.WriteString(`"`)
	}
	b.WriteString(` class="spark" viewBox="0 0 118 100" preserveAspectRatio="none" role="img" aria-label="`)
	b.WriteString(html.EscapeString(s.Label))
	b.WriteString(`">`)
	lo, hi := s.Min, s.Max
	if hi <= lo {
		lo, hi = dataRange(s.Values)
		if hi <= lo {
			hi = lo + 1
		}
	}
	n := len(s.Values)
	first, last := -1, -1
	for i, v := range s.Values {
		if !math.IsNaN(v) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if n >= 2 && first >= 0 {
		step := float64(sparkW) / float64(n-1)
		y := func(v float64) string {
			return strconv.Itoa(int(math.Round(sparkH - 2 - clamp((v-lo)/(hi-lo), 0, 1)*(sparkH-6))))
		}
		b.WriteString(`<path d="M`)
		b.WriteString(num(float64(first)*step - 3))
		b.WriteString(` 103 `)
		b.WriteString(num(float64(first)*step - 3))
		b.WriteByte(' ')
		b.WriteString(y(s.Values[first]))
		for i := first; i <= last; i++ {
			if math.IsNaN(s.Values[i]) {
				continue
			}
			b.WriteByte(' ')
			b.WriteString(num(float64(i) * step))
			b.WriteByte(' ')
			b.WriteString(y(s.Values[i]))
		}
		b.WriteByte(' ')
		b.WriteString(num(float64(last)*step + 3))
		b.WriteByte(' ')
		b.WriteString(y(s.Values[last]))
		b.WriteByte(' ')
		b.WriteString(num(float64(last)*step + 3))
		b.WriteString(` 103Z"/>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Sparkline is SparklineSVG as a templ component.
func Sparkline(s SparkView) templ.Component { return templ.Raw(SparklineSVG(s)) }

func dataRange(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// num formats a coordinate with at most one decimal.
func num(v float64) string {
	r := math.Round(v*10) / 10
	if r == math.Trunc(r) {
		return strconv.FormatInt(int64(r), 10)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// ChartPoint is one sample of a time chart; NaN Value marks a gap.
type ChartPoint struct {
	Time  time.Time
	Value float64
}

// ChartView is a time-series line chart with axes.
type ChartView struct {
	ID    string
	Title string // accessible name
	// Unit is appended to the y tick labels ("ms", "%").
	Unit string
	// From and To bound the x axis; zero values fit the data.
	From, To time.Time
	Points   []ChartPoint
	// Band, when set, draws the min..max envelope under the line.
	Band []ChartBand
	// Empty is shown when there are no points.
	Empty string
}

// ChartBand is the spread of values around one point of a downsampled chart.
type ChartBand struct {
	Time     time.Time
	Min, Max float64
}

// The plot is an SVG stretched to its box (preserveAspectRatio none, strokes
// that do not scale); the axis labels are HTML placed by percentage around
// it, so text stays at its CSS size from a 360 px phone to a 4K wall and
// the chart keeps its height whatever the width.
const (
	plotW = 1000
	plotH = 300
)

// ChartHTML renders a line chart with a y axis (round ticks with the unit),
// an x axis (round times), grid lines and an optional min/max band.
func ChartHTML(c ChartView) string {
	var b strings.Builder
	b.WriteString(`<figure`)
	if c.ID != "" {
		b.WriteString(` id="` + html.EscapeString(c.ID) + `"`)
	}
	b.WriteString(` class="chart" role="img" aria-label="` + html.EscapeString(c.Title) + `">`)
	from, to := c.From, c.To
	var hasData bool
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range c.Points {
		if math.IsNaN(p.Value) {
			continue
		}
		hasData = true
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		if c.From.IsZero() && (from.IsZero() || p.Time.Before(from)) {
			from = p.Time
		}
		if c.To.IsZero() && (to.IsZero() || p.Time.After(to)) {
			to = p.Time
		}
	}
	for _, bd := range c.Band {
		if !math.IsNaN(bd.Max) {
			hi = math.Max(hi, bd.Max)
		}
	}
	if !hasData {
		empty := c.Empty
		if empty == "" {
			empty = "No data in this range"
		}
		b.WriteString(`<p class="chart-empty">` + html.EscapeString(empty) + `</p></figure>`)
		return b.String()
	}
	if !to.After(from) {
		from = to.Add(-time.Minute)
	}
	lo = math.Min(lo, 0)
	ticks := NiceTicks(lo, hi, 4)
	ylo, yhi := ticks[0], ticks[len(ticks)-1]
	xOf := func(t time.Time) float64 { return plotW * float64(t.Sub(from)) / float64(to.Sub(from)) }
	yOf := func(v float64) float64 { return plotH * (1 - clamp((v-ylo)/(yhi-ylo), 0, 1)) }
	pct := func(v, whole float64) string { return num(100*v/whole) + "%" }

	b.WriteString(`<div class="chart-y" aria-hidden="true">`)
	for _, t := range ticks {
		b.WriteString(`<span style="top:` + pct(yOf(t), plotH) + `">` + html.EscapeString(fmtTick(t, c.Unit)) + `</span>`)
	}
	b.WriteString(`</div><div class="chart-plot"><svg viewBox="0 0 1000 300" preserveAspectRatio="none" aria-hidden="true"><g class="grid">`)
	for _, t := range ticks {
		y := num(yOf(t))
		b.WriteString(`<line x1="0" x2="1000" y1="` + y + `" y2="` + y + `"/>`)
	}
	b.WriteString(`</g>`)
	if len(c.Band) > 1 {
		b.WriteString(`<path class="band" d="`)
		for i, bd := range c.Band {
			if i == 0 {
				b.WriteByte('M')
			} else {
				b.WriteByte('L')
			}
			b.WriteString(num(xOf(bd.Time)) + " " + num(yOf(bd.Max)))
		}
		for i := len(c.Band) - 1; i >= 0; i-- {
			b.WriteString("L" + num(xOf(c.Band[i].Time)) + " " + num(yOf(c.Band[i].Min)))
		}
		b.WriteString(`Z"/>`)
	}
	b.WriteString(`<path class="line" d="`)
	pen := false
	for _, p := range c.Points {
		if math.IsNaN(p.Value) {
			pen = false
			continue
		}
		if pen {
			b.WriteByte('L')
		} else {
			b.WriteByte('M')
			pen = true
		}
		b.WriteString(num(xOf(p.Time)) + " " + num(yOf(p.Value)))
	}
	b.WriteString(`"/>`)
	// A lone point would be invisible as a path: mark it.
	for i, p := range c.Points {
		prevGap := i == 0 || math.IsNaN(c.Points[i-1].Value)
		nextGap := i == len(c.Points)-1 || math.IsNaN(c.Points[i+1].Value)
		if !math.IsNaN(p.Value) && prevGap && nextGap {
			x, y := num(xOf(p.Time)), num(yOf(p.Value))
			b.WriteString(`<path class="pt" d="M` + x + ` ` + y + `L` + x + ` ` + y + `"/>`)
		}
	}
	b.WriteString(`</svg><div class="chart-x" aria-hidden="true">`)
	for _, t := range timeTicks(from, to, 5) {
		b.WriteString(`<span style="left:` + pct(xOf(t), plotW) + `">` + html.EscapeString(fmtTimeTick(t, to.Sub(from))) + `</span>`)
	}
	b.WriteString(`</div></div></figure>`)
	return b.String()
}

// Chart is ChartHTML as a templ component.
func Chart(c ChartView) templ.Component { return templ.Raw(ChartHTML(c)) }

// NiceTicks returns about n+1 round tick values covering lo..hi, the
// first at or below lo and the last at or above hi: the axes of every
// chart (check latency, host history).
func NiceTicks(lo, hi float64, n int) []float64 {
	// A flat series (or one off by float noise, e.g. a rate of 1e-9 B/s)
	// gets a unit axis, not one labelled in billionths.
	if hi-lo < 1e-6 {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 2.5:
		step = 2.5 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	start := math.Floor(lo/step) * step
	var ticks []float64
	for v := start; v < hi+step*0.999; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	if len(ticks) < 2 {
		ticks = append(ticks, start+step)
	}
	return ticks
}

func fmtTick(v float64, unit string) string {
	var s string
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000 && unit == "ms":
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + " s"
	case math.Abs(v) >= 100 || v == math.Trunc(v):
		s = strconv.FormatFloat(v, 'f', 0, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if unit == "" {
		return s
	}
	if unit == "%" {
		return s + "%"
	}
	return s + " " + unit
}

// timeTicks picks round instants (minutes, hours, days) between from and to.
func timeTicks(from, to time.Time, n int) []time.Time {
	span := to.Sub(from)
	steps := []time.Duration{
		time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
	}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	loc := from.Location()
	var first time.Time
	if step >= 24*time.Hour {
		y, m, d := from.Date()
		first = time.Date(y, m, d, 0, 0, 0, 0, loc)
	} else {
		first = from.Truncate(step)
	}
	var out []time.Time
	for t := first; !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}

func fmtTimeTick(t time.Time, span time.Duration) string {
	switch {
	case span <= 2*24*time.Hour:
		return t.Format("15:04")
	default:
		return t.Format("Jan 2")
	}
}
