package server

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/config"
)

// Query parameter limits of the JSON API.
const (
	// defaultPoints is how many points a series or history answers when the
	// request does not say: enough for a chart a few hundred pixels wide.
	defaultPoints = 300
	// maxPoints bounds points= so one request cannot make storage decode and
	// the server encode an unbounded answer.
	maxPoints = 10000
	// defaultRange is the window of a series or history request without from=.
	defaultRange = time.Hour
	// defaultEvents and maxEvents bound limit= of /api/v1/events.
	defaultEvents = 50
	maxEvents     = 1000
)

// errEmptyTime is returned by parseTime for an empty string; callers treat it
// as "use the default" rather than as a bad parameter.
var errEmptyTime = errors.New("empty time")

// parseTime reads a time the way the JSON API accepts it in from= and to=:
//
//   - RFC 3339, with or without fractional seconds ("2024-05-01T12:00:00Z");
//   - Unix seconds, optionally fractional ("1714564800", "1714564800.5");
//   - "now";
//   - a signed duration relative to now, in Go syntax or whole days
//     ("-1h", "-10m", "-1h30m", "-7d", "+5m").
//
// A duration must carry its sign: a bare "1h" is refused because it is not
// obvious whether it means an hour ago or an hour from now. It returns
// errEmptyTime for "" so callers can apply their default.
func parseTime(s string, now time.Time) (time.Time, error) {
	// An unescaped '+' in a query string arrives as a space ("?to=+5m"
	// decodes to " 5m"): a space before a duration is that plus sign.
	if rest, ok := strings.CutPrefix(s, " "); ok && rest != "" && rest[0] != ' ' && rest[0] != '-' && rest[0] != '+' {
		if _, err := config.ParseDuration(rest); err == nil {
			s = "+" + rest
		}
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, errEmptyTime
	case s == "now":
		return now, nil
	case s[0] == '-' || s[0] == '+':
		// A negative Unix time is not a useful API input; a signed value is
		// always a relative duration.
		d, err := config.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a relative duration such as -1h, -10m or -7d", s)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if isUnixNumber(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || f > 1e11 {
			return time.Time{}, fmt.Errorf("%q is out of range for Unix seconds", s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if _, err := time.ParseDuration(s); err == nil {
		return time.Time{}, fmt.Errorf("%q: a relative time needs a sign, e.g. -%s", s, s)
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, Unix seconds or a relative duration such as -1h", s)
}

// isUnixNumber reports whether s is digits with at most one decimal point.
func isUnixNumber(s string) bool {
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

// timeRange is a validated from/to/points request.
type timeRange struct {
	From, To time.Time
	Points   int
}

// parseRange reads from=, to= and points= with their defaults: the last
// defaultRange up to now, defaultPoints points. Each error names the parameter.
func parseRange(from, to, points string, now time.Time) (timeRange, error) {
	r := timeRange{To: now, Points: defaultPoints}
	var err error
	if to != "" {
		if r.To, err = parseTime(to, now); err != nil {
			return r, fmt.Errorf("to: %w", err)
		}
	}
	r.From = r.To.Add(-defaultRange)
	if from != "" {
		if r.From, err = parseTime(from, now); err != nil {
			return r, fmt.Errorf("from: %w", err)
		}
	}
	if !r.From.Before(r.To) {
		return r, fmt.Errorf("from (%s) must be before to (%s)", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	}
	if points != "" {
		n, err := strconv.Atoi(points)
		if err != nil || n < 1 || n > maxPoints {
			return r, rangeError("points", points, 1, maxPoints)
		}
		r.Points = n
	}
	return r, nil
}

// parseUintParam reads an optional whole-number parameter from lo to hi,
// def when empty.
func parseUintParam(name, v string, def, lo, hi uint64) (uint64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, rangeError(name, v, lo, hi)
	}
	return n, nil
}

// rangeError is the one wording of a number parameter out of its range,
// on every route: "limit must be 1..1000, got \"0\"".
func rangeError[T int | uint64](name, v string, lo, hi T) error {
	return fmt.Errorf("%s must be %d..%d, got %q", name, lo, hi, v)
}

// maxListValues bounds the values of one list parameter (state=, group=,
// ...), repeated and comma-separated together, and maxValueLen each value.
const (
	maxListValues = 64
	maxValueLen   = 256
)

// queryParams guards a route's query string: a parameter the route does
// not take is a 400 that names it and the ones it takes, so a typo
// (?stat=down) is never silently ignored into a full answer.
func queryParams(names ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := unknownParam(queryKeys(c), names); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		return c.Next()
	}
}

// unknownParam returns an error naming the first key not in allowed.
func unknownParam(keys, allowed []string) error {
	for _, k := range keys {
		if slices.Contains(allowed, k) {
			continue
		}
		if len(allowed) == 0 {
			return fmt.Errorf("unknown query parameter %s: this endpoint takes none", quoteParam(k))
		}
		return fmt.Errorf("unknown query parameter %s: this endpoint takes %s", quoteParam(k), strings.Join(allowed, ", "))
	}
	return nil
}

// quoteParam quotes a client's parameter name for a message, cut short.
func quoteParam(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(strings.ToValidUTF8(s, "?"))
}

// queryList reads a list parameter: repeated (?state=up&state=down),
// comma-separated (?state=up,down) or both. Values are trimmed; an empty
// one, more than maxListValues or one longer than maxValueLen is an error.
// No parameter at all is nil.
func queryList(c *fiber.Ctx, name string) ([]string, error) {
	var raw []string
	for _, v := range c.Request().URI().QueryArgs().PeekMulti(name) {
		raw = append(raw, string(v))
	}
	return splitValues(name, raw)
}

// splitValues is queryList's parsing, apart from fiber.
func splitValues(name string, raw []string) ([]string, error) {
	var out []string
	for _, r := range raw {
		for _, v := range strings.Split(r, ",") {
			v = strings.TrimSpace(v)
			switch {
			case v == "":
				return nil, fmt.Errorf("%s: empty value (give one or more values, comma-separated or repeated)", name)
			case len(v) > maxValueLen:
				return nil, fmt.Errorf("%s: a value is longer than %d bytes", name, maxValueLen)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
			if len(out) > maxListValues {
				return nil, fmt.Errorf("%s: more than %d values", name, maxListValues)
			}
		}
	}
	return out, nil
}

// checkValues refuses a value of a list parameter that is not one of
// known, naming them.
func checkValues(name string, vals, known []string) error {
	for _, v := range vals {
		switch {
		case slices.Contains(known, v):
		case len(known) == 0:
			return fmt.Errorf("%s: unknown value %s; there are none", name, quoteParam(v))
		default:
			return fmt.Errorf("%s: unknown value %s; one of %s", name, quoteParam(v), strings.Join(known, ", "))
		}
	}
	return nil
}
