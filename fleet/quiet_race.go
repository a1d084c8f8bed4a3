//go:build race

package fleet

import (
	// For go:linkname.
	_ "unsafe"
)

// natsProcStatFile: see quiet.go.
//
//go:linkname natsProcStatFile github.com/nats-io/nats-server/v2/server/pse.procStatFile
var natsProcStatFile string

// QuietProcessSampler does nothing in a race-detector build: see quiet.go.
func QuietProcessSampler() {}
