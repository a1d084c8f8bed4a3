package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// number writes a value with at most one decimal (two below 10, so a
// load of 0.85 per core keeps its digits), without a trailing ".0".
func number(v float64) string {
	prec := 1
	switch a := math.Abs(v); {
	case a >= 100:
		prec = 0
	case a < 10:
		prec = 2
		if a >= 1 {
			prec = 1
		}
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func percent(v float64) string   { return number(v) + "%" }
func perSecond(v float64) string { return number(v) + " errors/s" }

// duration writes seconds as people say them: "45m", "7h", "7h30m",
// "3d"; "never" for +Inf or a negative value.
func duration(sec float64) string {
	if math.IsInf(sec, 1) || sec < 0 || math.IsNaN(sec) {
		return "never"
	}
	return human(time.Duration(sec * float64(time.Second)))
}

// human writes a duration rounded to what matters at its size.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + "m"
	case d < 10*time.Hour:
		d = d.Round(time.Minute)
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return strconv.Itoa(int(h)) + "h"
		}
		return fmt.Sprintf("%dh%dm", h, m)
	case d < 72*time.Hour:
		return strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + "d"
	}
}

// bytesIEC writes a byte count in binary units ("12.3 GiB").
func bytesIEC(b float64) string {
	const unit = 1024
	units := [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	neg := b < 0
	b = math.Abs(b)
	for b >= unit && i < len(units)-1 {
		b /= unit
		i++
	}
	s := number(b) + " " + units[i]
	if neg {
		s = "-" + s
	}
	return s
}

// direction names the side of a threshold the condition is on.
func direction(p params) string {
	if p.below {
		return "below"
	}
	return "above"
}

// onInstance is " on /var" for an instance, "" for the host.
func onInstance(instance string) string {
	if instance == "" {
		return ""
	}
	return " on " + instance
}
