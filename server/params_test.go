package server

import (
	"errors"
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
		{name: "points zero", points: "0", wantErr: "points: "},
		{name: "points too many", points: "10001", wantErr: "points: "},
		{name: "points not a number", points: "many", wantErr: "points: "},
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
