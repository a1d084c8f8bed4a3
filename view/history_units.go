package view

import (
	"math"
	"strconv"
	"time"
)

// histUnit is what a history chart's values measure; it decides the display
// histUnit (a binary or decimal multiple picked from the largest value) and
// the suffixes of axis labels and readouts.
type histUnit uint8

const (
	histPct       histUnit = iota // 0..100
	histBytes                     // B, KiB, MiB, ...
	histBytesRate                 // B/s, KiB/s, ...
	histPerSec                    // operations, packets or errors per second
	histCount                     // processes, handles, goroutines
	histLoad                      // load average: plain numbers
	histMillis                    // durations in milliseconds: ms, or s from a second up
)

// histScale is a display unit: values are divided by div and followed by
// suffix; caption names the unit above the chart.
type histScale struct {
	div     float64
	suffix  string
	caption string
}

// histScaleFor picks the display unit for values up to hi.
func histScaleFor(u histUnit, hi float64) histScale {
	hi = math.Abs(hi)
	switch u {
	case histPct:
		return histScale{1, "%", "%"}
	case histBytes, histBytesRate:
		names := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
		i, div := 0, 1.0
		for i < len(names)-1 && hi >= div*1024 {
			div *= 1024
			i++
		}
		name := names[i]
		if u == histBytesRate {
			name += "/s"
		}
		return histScale{div, " " + name, name}
	case histPerSec, histCount:
		prefixes := []string{"", "k", "M", "G"}
		i, div := 0, 1.0
		for i < len(prefixes)-1 && hi >= div*1000 {
			div *= 1000
			i++
		}
		if u == histPerSec {
			if i == 0 {
				return histScale{div, "/s", "per second"}
			}
			return histScale{div, " " + prefixes[i] + "/s", []string{"", "thousands", "millions", "billions"}[i] + " per second"}
		}
		if i == 0 {
			return histScale{div, "", ""}
		}
		return histScale{div, " " + prefixes[i], []string{"", "thousands", "millions", "billions"}[i]}
	case histMillis:
		if hi >= 1000 {
			return histScale{1000, " s", "seconds"}
		}
		return histScale{1, " ms", "milliseconds"}
	default:
		return histScale{1, "", ""}
	}
}

// histSig3 formats v (already scaled) with three significant digits and no
// trailing zeros: what readouts and legends show.
func histSig3(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	p := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
	r := math.Round(v*p) / p
	if math.Abs(r) >= 1000 {
		return strconv.FormatFloat(math.Round(r), 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// histNum formats an axis value (a multiple of a round step).
func histNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64)
}

// histTimeTicks picks round instants in loc (minutes, hours, local midnights)
// between from and to, at most about n of them.
func histTimeTicks(from, to time.Time, n int, loc *time.Location) []time.Time {
	from, to = from.In(loc), to.In(loc)
	span := to.Sub(from)
	const day = 24 * time.Hour
	steps := []time.Duration{
		time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		day, 2 * day, 7 * day, 14 * day, 30 * day,
	}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	var out []time.Time
	if step >= day {
		y, m, d := from.Date()
		days := int(step / day)
		for t := time.Date(y, m, d, 0, 0, 0, 0, loc); !t.After(to); t = t.AddDate(0, 0, days) {
			if !t.Before(from) {
				out = append(out, t)
			}
		}
		return out
	}
	// Round to the step in local wall time: offsets of whole quarter
	// hours keep hour ticks on local hours.
	_, off := from.Zone()
	shift := time.Duration(off) * time.Second
	first := from.Add(shift).Truncate(step).Add(-shift)
	for t := first; !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}

// histTimeLabel formats an x tick for a chart spanning span.
func histTimeLabel(t time.Time, span time.Duration) string {
	if span <= 2*24*time.Hour {
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

// HistoryZone is the fixed zone of a browser's UTC offset as JavaScript's
// Date.getTimezoneOffset reports it (minutes behind UTC: UTC+2 is -120),
// named like "UTC+02:00" ("UTC" for 0).
func HistoryZone(tzo int) *time.Location {
	east := -tzo
	if east == 0 {
		return time.UTC
	}
	sign := byte('+')
	if east < 0 {
		sign, east = '-', -east
	}
	name := "UTC" + string(sign) + histPad2(east/60) + ":" + histPad2(east%60)
	if sign == '-' {
		east = -east
	}
	return time.FixedZone(name, east*60)
}

func histPad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// MaxTZOffset bounds a browser's UTC offset in minutes (UTC-12 to UTC+14,
// with room to spare).
const MaxTZOffset = 16 * 60
