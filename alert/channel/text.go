package channel

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Destinations limit the length of what they show. The helpers below cut a
// text to a limit, always on a character boundary, and end a cut text with
// a marker so a reader knows something is missing.

// truncatedMarker ends a text that was cut to fit a destination's limit.
const truncatedMarker = "\n… (truncated)"

// truncateRunes cuts s to at most limit characters (Unicode code points, as
// Discord counts), the marker included.
func truncateRunes(s string, limit int, marker string) string {
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	keep := limit - utf8.RuneCountInString(marker)
	if keep <= 0 {
		return string([]rune(marker)[:limit])
	}
	i, n := 0, 0
	for i < len(s) && n < keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + marker
}

// truncateUTF16 cuts s to at most limit UTF-16 code units (as Telegram
// counts), the marker included.
func truncateUTF16(s string, limit int, marker string) string {
	if utf16Len(s) <= limit {
		return s
	}
	keep := limit - utf16Len(marker)
	if keep <= 0 {
		return truncateRunes(marker, max(limit, 0), "")
	}
	i, n := 0, 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > keep {
			break
		}
		i += size
		n += w
	}
	return s[:i] + marker
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}

// truncateBytes cuts s to at most limit bytes, the marker included, without
// splitting a character.
func truncateBytes(s string, limit int, marker string) string {
	if len(s) <= limit {
		return s
	}
	keep := limit - len(marker)
	if keep <= 0 {
		return ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker
}

// oneLine makes s fit a header or a title: line breaks and tabs become
// spaces, other control characters go.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// body is the message's text without its first line (the title), for
// destinations that show the title apart.
func body(m model.AlertMessage) string {
	t := m.Text()
	if _, rest, ok := strings.Cut(t, "\n"); ok {
		return strings.TrimLeft(rest, "\n")
	}
	return ""
}

// worst is the most urgent severity among the message's firing alerts, or
// "" when none fires (every alert resolved).
func worst(m model.AlertMessage) string {
	rank := map[string]int{config.SeverityCritical: 3, config.SeverityWarning: 2, config.SeverityInfo: 1}
	best := ""
	for _, a := range m.Alerts {
		if a.State != model.AlertFiring {
			continue
		}
		if best == "" || rank[a.Severity] > rank[best] {
			best = a.Severity
		}
	}
	if best == "" && m.Test {
		return config.SeverityInfo
	}
	return best
}

// where lists an alert's location labels as Text does: "host=db-1 check=web".
func where(a model.Alert) string {
	var parts []string
	for _, k := range []string{"host", "check", "group", "type", "rule", "mountpoint", "interface"} {
		if v := a.Labels[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// webURL returns u when it is an absolute http(s) URL, for destinations
// that refuse anything else in a link field.
func webURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	for _, r := range u {
		if r <= ' ' || r == 0x7f {
			return ""
		}
	}
	return u
}
