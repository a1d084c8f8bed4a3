package server

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    time.Time
		wantErr string // substring; empty means success
	}{
		{name: "rfc3339", in: "2024-05-01T10:00:00Z", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{name: "rfc3339 offset", in: "2024-05-01T12:00:00+02:00", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{name: "rfc3339 nano", in: "2024-05-01T10:00:00.25Z", want: time.Date(2024, 5, 1, 10, 0, 0, 250e6, time.UTC)},
		{name: "unix seconds", in: "1714564800", want: time.Unix(1714564800, 0)},
		{name: "unix fractional", in: "1714564800.5", want: time.Unix(1714564800, 5e8)},
		{name: "unix zero", in: "0", want: time.Unix(0, 0)},
		{name: "now", in: "now", want: now},
		{name: "minus hour", in: "-1h", want: now.Add(-time.Hour)},
		{name: "minus ten minutes", in: "-10m", want: now.Add(-10 * time.Minute)},
		{name: "compound", in: "-1h30m", want: now.Add(-90 * time.Minute)},
		{name: "days", in: "-7d", want: now.Add(-7 * 24 * time.Hour)},
		{name: "plus", in: "+5m", want: now.Add(5 * time.Minute)},
		{name: "spaces trimmed", in: " -1h ", want: now.Add(-time.Hour)},
		// "?to=+5m" without escaping the plus arrives as " 5m".
		{name: "query plus as space", in: " 5m", want: now.Add(5 * time.Minute)},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "unsigned duration", in: "1h", wantErr: "needs a sign"},
		{name: "bad duration", in: "-1x", wantErr: "not a relative duration"},
		{name: "garbage", in: "yesterday", wantErr: "not RFC 3339"},
		{name: "date only", in: "2024-05-01", wantErr: "not RFC 3339"},
		{name: "two dots", in: "17.1.1", wantErr: "not RFC 3339"},
		{name: "huge unix", in: "99999999999999", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTime(tt.in, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseTime(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("parseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	if _, err := parseTime("", now); !errors.Is(err, errEmptyTime) {
		t.Fatalf("empty: got %v, want errEmptyTime", err)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		from, to, points string
		want             timeRange
		wantErr          string
	}{
		{name: "defaults", want: timeRange{From: now.Add(-time.Hour), To: now, Points: defaultPoints}},
		{name: "from only", from: "-10m", want: timeRange{From: now.Add(-10 * time.Minute), To: now, Points: defaultPoints}},
		{name: "to only moves default from", to: "-1h", want: timeRange{From: now.Add(-2 * time.Hour), To: now.Add(-time.Hour), Points: defaultPoints}},
		{name: "points", from: "-1d", points: "50", want: timeRange{From: now.Add(-24 * time.Hour), To: now, Points: 50}},
		{name: "bad from", from: "soon", wantErr: "from: "},
		{name: "bad to", to: "1h", wantErr: "to: "},
		{name: "reversed", from: "-1h", to: "-2h", wantErr: "must be before"},
		{name: "equal", from: "now", to: "now", wantErr: "must be before"},
		{name: "points zero", points: "0", wantErr: `points must be 1..10000, got "0"`},
		{name: "points too many", points: "10001", wantErr: `points must be 1..10000, got "10001"`},
		{name: "points not a number", points: "many", wantErr: `points must be 1..10000, got "many"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRange(tt.from, tt.to, tt.points, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) || got.Points != tt.want.Points {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUnknownParam(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		allowed []string
		wantErr string // empty: accepted
	}{
		{name: "none given, none taken"},
		{name: "known", keys: []string{"from", "to"}, allowed: []string{"from", "to", "points"}},
		{name: "repeated known", keys: []string{"state", "state"}, allowed: []string{"state"}},
		{name: "typo", keys: []string{"from", "stat"}, allowed: []string{"state", "from"},
			wantErr: `unknown query parameter "stat": this endpoint takes state, from`},
		{name: "route without parameters", keys: []string{"x"}, wantErr: `unknown query parameter "x": this endpoint takes none`},
		{name: "case matters", keys: []string{"State"}, allowed: []string{"state"}, wantErr: `"State"`},
		{name: "empty name", keys: []string{""}, allowed: []string{"state"}, wantErr: `unknown query parameter ""`},
		{name: "long name cut", keys: []string{strings.Repeat("a", 500)}, wantErr: `aaa..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := unknownParam(tt.keys, tt.allowed)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unknownParam(%q, %q) = %v, want nil", tt.keys, tt.allowed, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("unknownParam(%q, %q) = %v, want error containing %q", tt.keys, tt.allowed, err, tt.wantErr)
			}
			if len(err.Error()) > 300 {
				t.Errorf("message not bounded: %d bytes", len(err.Error()))
			}
		})
	}
}

func TestSplitValues(t *testing.T) {
	many := make([]string, maxListValues+1)
	for i := range many {
		many[i] = strconv.Itoa(i)
	}
	tests := []struct {
		name    string
		raw     []string
		want    []string
		wantErr string
	}{
		{name: "absent", raw: nil, want: nil},
		{name: "one", raw: []string{"down"}, want: []string{"down"}},
		{name: "comma list", raw: []string{"down,degraded"}, want: []string{"down", "degraded"}},
		{name: "repeated and comma", raw: []string{"down", "up, unknown"}, want: []string{"down", "up", "unknown"}},
		{name: "duplicates kept once", raw: []string{"down,down", "down"}, want: []string{"down"}},
		{name: "empty value", raw: []string{""}, wantErr: "state: empty value"},
		{name: "trailing comma", raw: []string{"down,"}, wantErr: "state: empty value"},
		{name: "too long", raw: []string{strings.Repeat("x", maxValueLen+1)}, wantErr: "longer than"},
		{name: "too many", raw: []string{strings.Join(many, ",")}, wantErr: "more than 64 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitValues("state", tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if err := checkValues("state", []string{"up", "dwn"}, stateNames); err == nil ||
		err.Error() != `state: unknown value "dwn"; one of up, degraded, down, unknown` {
		t.Errorf("checkValues: %v", err)
	}
}
