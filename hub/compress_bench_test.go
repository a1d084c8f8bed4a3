package hub

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// recordedStream is testdata/dashboard-stream.chunks: the body of one
// dashboard stream of a real dashd (20 checks every 10 s, 1 s host
// sampling and broadcasts), recorded for 40 s as the HTTP chunks the hub
// wrote. The first chunk is the on-connect state, the others what the
// scheduler broadcast, one chunk each. It is what the compression options
// below are measured on.
func recordedStream(tb testing.TB) (initial []byte, ticks [][]byte) {
	tb.Helper()
	raw, err := os.ReadFile("testdata/dashboard-stream.chunks")
	if err != nil {
		tb.Fatal(err)
	}
	var chunks [][]byte
	for len(raw) > 0 {
		i := bytes.Index(raw, []byte("\r\n"))
		if i < 0 {
			tb.Fatal("testdata/dashboard-stream.chunks: truncated chunk size")
		}
		n, err := strconv.ParseInt(string(raw[:i]), 16, 64)
		if err != nil || int64(len(raw)) < int64(i)+2+n+2 {
			tb.Fatalf("testdata/dashboard-stream.chunks: bad chunk %q", raw[:i])
		}
		chunks = append(chunks, raw[i+2:i+2+int(n)])
		raw = raw[i+2+int(n)+2:]
	}
	if len(chunks) < 10 {
		tb.Fatalf("testdata/dashboard-stream.chunks: %d chunks, want a recorded stream", len(chunks))
	}
	return chunks[0], chunks[1:]
}

// BenchmarkStreamCompression weighs the ways a stream could be compressed,
// on the recorded dashboard stream. Each op compresses every recorded
// broadcast once, as a stream would receive them; it reports the bytes in
// and out per op, and for the per-stream options the heap one stream's
// compressor holds (what 10,000 streams would multiply).
//
//   - shared: what the hub does. Each broadcast is compressed once, on its
//     own (no reference to earlier bytes), and the same bytes go to every
//     gzip stream: the cost is per broadcast, not per client, and a stream
//     holds no compressor.
//   - per-stream: one compressor per stream with its history (a sliding
//     window), flushed per broadcast: better ratio on similar ticks, but
//     the compression runs once per client and each client holds the
//     compressor's memory.
func BenchmarkStreamCompression(b *testing.B) {
	_, ticks := recordedStream(b)
	in := 0
	for _, t := range ticks {
		in += len(t)
	}
	b.Run("shared/hub", func(b *testing.B) {
		var dst []byte
		out := 0
		for b.Loop() {
			out = 0
			for _, t := range ticks {
				dst = deflate(dst[:0], t)
				out += len(dst)
			}
		}
		report(b, in, out, 0)
	})
	b.Run("shared/stdlib-level-1", func(b *testing.B) {
		var buf bytes.Buffer
		w, _ := stdflate.NewWriter(&buf, stdflate.BestSpeed)
		out := 0
		for b.Loop() {
			out = 0
			for _, t := range ticks {
				buf.Reset()
				w.Reset(&buf) // no history: each broadcast on its own
				_, _ = w.Write(t)
				_ = w.Flush()
				out += buf.Len()
			}
		}
		report(b, in, out, 0)
	})
	for _, lvl := range []int{stdflate.BestSpeed, stdflate.DefaultCompression} {
		b.Run("per-stream/stdlib-level-"+strconv.Itoa(lvl), func(b *testing.B) {
			var buf bytes.Buffer
			held := heldBy(func() any { w, _ := stdflate.NewWriter(io.Discard, lvl); return w })
			w, _ := stdflate.NewWriter(&buf, lvl)
			out := 0
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				for _, t := range ticks {
					_, _ = w.Write(t)
					_ = w.Flush()
				}
				out = buf.Len()
			}
			report(b, in, out, held)
		})
	}
	for _, win := range []int{4 << 10, 32 << 10} {
		b.Run("per-stream/klauspost-window-"+strconv.Itoa(win>>10)+"K", func(b *testing.B) {
			var buf bytes.Buffer
			held := heldBy(func() any { w, _ := kflate.NewWriterWindow(io.Discard, win); return w })
			w, _ := kflate.NewWriterWindow(&buf, win)
			out := 0
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				for _, t := range ticks {
					_, _ = w.Write(t)
					_ = w.Flush()
				}
				out = buf.Len()
			}
			report(b, in, out, held)
		})
	}
}

// report adds the bytes in and out of one op, their ratio and the heap one
// stream holds.
func report(b *testing.B, in, out int, held uint64) {
	b.ReportMetric(float64(in), "bytes-in/op")
	b.ReportMetric(float64(out), "bytes-out/op")
	b.ReportMetric(float64(in)/float64(max(out, 1)), "ratio")
	b.ReportMetric(float64(held), "heap-per-stream-B")
}

// heldBy is the heap that what mk returns keeps reachable, measured over
// 16 of them.
func heldBy(mk func() any) uint64 {
	const n = 16
	keep := make([]any, n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := range keep {
		keep[i] = mk()
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(keep)
	return (m1.HeapAlloc - m0.HeapAlloc) / n
}

// BenchmarkInitialStateCompression is the on-connect state of the recorded
// stream, compressed for one gzip stream as HandleSSE does.
func BenchmarkInitialStateCompression(b *testing.B) {
	initial, _ := recordedStream(b)
	var dst []byte
	for b.Loop() {
		dst = deflate(dst[:0], initial)
	}
	report(b, len(initial), len(dst), 0)
}
