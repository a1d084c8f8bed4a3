package rules

import (
	"errors"
	"math"
	"testing"
	"time"
)

func errorsIs(err error) bool { return errors.Is(err, ErrInvalidRule) }

func TestFormat(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"integer", number(90), "90"},
		{"one decimal", number(92.44), "92.4"},
		{"small", number(0.853), "0.85"},
		{"large", number(1234.5), "1234"},
		{"zero", number(0), "0"},
		{"negative zero", number(-0.001), "0"},
		{"percent", percent(97.25), "97.2%"},
		{"per second", perSecond(12.5), "12.5 errors/s"},
		{"seconds", human(42 * time.Second), "42s"},
		{"minutes", human(5 * time.Minute), "5m"},
		{"hours and minutes", human(7*time.Hour + 12*time.Minute), "7h12m"},
		{"whole hours", human(7 * time.Hour), "7h"},
		{"many hours", human(31*time.Hour + 20*time.Minute), "31h"},
		{"days", human(100 * time.Hour), "4d"},
		{"never", duration(math.Inf(1)), "never"},
		{"fills in", duration(16 * 3600), "16h"},
		{"bytes", bytesIEC(12.34 * (1 << 30)), "12.3 GiB"},
		{"bytes small", bytesIEC(512), "512 B"},
		{"bytes negative", bytesIEC(-1.5 * (1 << 20)), "-1.5 MiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
