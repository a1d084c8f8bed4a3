package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is an amount of storage in bytes, written in YAML as "512KB",
// "32MB", "1GiB" or a plain number of bytes. KB, MB, GB and TB are powers of
// 1000; KiB, MiB, GiB and TiB powers of 1024, as operators read them on disk
// tools (df -H versus df -h).
type ByteSize int64

// Units of ByteSize.
const (
	B   ByteSize = 1
	KB  ByteSize = 1000
	MB  ByteSize = 1000 * KB
	GB  ByteSize = 1000 * MB
	TB  ByteSize = 1000 * GB
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

// byteUnits lists the units by name, the largest of each family first (the
// order String tries them).
var byteUnits = []struct {
	name string
	size ByteSize
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", TB}, {"GB", GB}, {"MB", MB}, {"KB", KB},
	{"B", B},
}

// Bytes returns the size as a number of bytes.
func (b ByteSize) Bytes() int64 { return int64(b) }

// String writes the size in the unit that states it exactly with the
// smallest number ("32MB", "1GiB", "1500B").
func (b ByteSize) String() string {
	best := strconv.FormatInt(int64(b), 10) + "B"
	if b <= 0 {
		return best
	}
	bestN := int64(b)
	for _, u := range byteUnits {
		if b%u.size == 0 && int64(b/u.size) < bestN {
			bestN = int64(b / u.size)
			best = strconv.FormatInt(bestN, 10) + u.name
		}
	}
	return best
}

// MarshalText writes the size as String does (JSON, templates).
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalYAML parses a size scalar.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a size such as 512KB, 32MB or 1GiB")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize reads "512KB", "32MB", "1GiB", "32 MB" or a whole number of
// bytes. Unit names ignore case except for the "i" of the binary units.
func ParseByteSize(s string) (ByteSize, error) {
	bad := fmt.Errorf("invalid size %q (use e.g. 512KB, 32MB, 1GiB or a number of bytes)", s)
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	unit := strings.TrimSpace(t[i:])
	mult := ByteSize(0)
	if unit == "" {
		mult = B
	}
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			mult = u.size
		}
	}
	if mult == 0 {
		return 0, bad
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(n) * mult, nil
}
