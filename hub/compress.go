package hub

import (
	"strings"

	"github.com/klauspost/compress/flate"
)

// # Compressed streams
//
// A stream whose request accepts gzip (Accept-Encoding) is sent gzip: the
// 10-byte gzip header, then deflate blocks, never a trailer (a stream never
// ends cleanly: see chunk). Each broadcast is compressed ONCE, on its own,
// with no reference to the bytes before it, and ends with a sync flush (an
// empty stored block), so that
//   - the browser can decode each broadcast as soon as it arrives;
//   - the same compressed bytes are valid after whatever a stream received
//     before (its own on-connect state, heartbeats, its session's events),
//     so every gzip stream shares them, like the plain bytes: the
//     compression costs once per broadcast, not once per client, a stream
//     holds no compressor (one would hold 300 KB to 1 MB of history and
//     hash tables: gigabytes at 10,000 streams), and direct writes (see
//     direct.go) write shared bytes as before.
//
// The price is the ratio: a broadcast cannot refer to the similar one a
// second earlier. Measured on a recorded dashboard stream
// (BenchmarkStreamCompression): 4.3x shared against 9x with a 32 KiB
// history per stream, and a 4 KiB history per stream gains little over
// shared. The on-connect state, large and repetitive, compresses ~7x on its
// own.

// gzipHeader opens a gzip stream: deflate, no flags, no time, unknown OS.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// deflate appends src to dst as deflate blocks that refer to nothing
// before them and end with a sync flush. It is safe for concurrent use and
// keeps no state between calls.
//
// klauspost/compress's stateless mode (already linked through fasthttp):
// on the recorded stream it is twice as fast as compress/flate at
// BestSpeed for the same ratio, and holds no compressor (compress/flate's
// holds ~1.2 MB, and a Reset of any higher level clears 512 KiB).
func deflate(dst, src []byte) []byte {
	w := appendWriter{b: dst}
	_ = flate.StatelessDeflate(&w, src, false, nil) // appendWriter never fails
	return w.b
}

// appendWriter is an io.Writer appending to b.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// acceptsGzip reports whether an Accept-Encoding value accepts gzip: a
// "gzip" (or "x-gzip") or "*" coding without q=0. Anything malformed counts
// as not accepting; the header is bounded by the server's header limit.
func acceptsGzip(v string) bool {
	gzip, star := -1, -1 // -1: not named; 0: refused (q=0); 1: accepted
	for part := range strings.SplitSeq(v, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		ok := 1
		for p := range strings.SplitSeq(params, ";") {
			k, val, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") && zeroQ(strings.TrimSpace(val)) {
				ok = 0
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			gzip = ok
		case "*":
			star = ok
		}
	}
	if gzip >= 0 {
		return gzip == 1
	}
	return star == 1
}

// zeroQ reports whether a q value is zero ("0", "0.", "0.000").
func zeroQ(q string) bool {
	if q == "" || q[0] != '0' {
		return false
	}
	return strings.Trim(q[1:], ".0") == ""
}
