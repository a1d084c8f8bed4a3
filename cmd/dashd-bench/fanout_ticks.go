package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// The daemon mode cannot stamp its own marker into the bytes (they are the
// real scheduler's output), so it identifies a tick by its content: every
// client of the dashboard room gets the same bytes for the same broadcast,
// one HTTP chunk per broadcast. A reader hashes each chunk's payload and
// notes when the chunk was complete; chunks of equal hash received close
// together are one tick's delivery (identical bytes in two ticks are told
// apart by the second of silence between them).

// maxChunk bounds one chunk the readers accept: the initial full state is
// tens of KiB, a tick a few.
const maxChunk = 4 << 20

// heartbeat is the payload of the hub's idle-stream comment, which is not
// a broadcast and not recorded.
var heartbeat = []byte(": ping\n\n")

// receipt is one chunk as one client got it.
type receipt struct {
	hash uint64
	at   int64 // nanoseconds since the run's start, when the chunk's last byte was read
	size int   // payload bytes
}

// chunkReader reads the HTTP/1.1 chunked body of one stream.
type chunkReader struct {
	br  *bufio.Reader
	buf []byte
}

// next returns the payload of the next chunk; it is valid until the next
// call. io.EOF is the terminating chunk.
func (r *chunkReader) next() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	line = bytes.TrimRight(line, "\r\n")
	if i := bytes.IndexByte(line, ';'); i >= 0 { // chunk extensions
		line = line[:i]
	}
	size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("bad chunk size line %q", line)
	}
	if size == 0 {
		return nil, io.EOF
	}
	if size > maxChunk {
		return nil, fmt.Errorf("chunk of %d bytes is over the %d-byte bound", size, maxChunk)
	}
	if cap(r.buf) < int(size)+2 {
		r.buf = make([]byte, size+2)
	}
	b := r.buf[:size+2]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, errors.New("chunk not followed by CRLF")
	}
	return b[:size], nil
}

// readFrames splits a file of HTTP chunks (what the daemon phase captured)
// into chunk-framed frames, as they go on the wire.
func readFrames(r io.Reader) ([][]byte, error) {
	cr := &chunkReader{br: bufio.NewReader(r)}
	var out [][]byte
	for {
		p, err := cr.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, chunkFrame(bytes.Clone(p)))
	}
}

// tickDelivery is one broadcast as all its clients got it.
type tickDelivery struct {
	hash        uint64
	bytes       int   // payload size
	first, last int64 // first and last client's receipt, ns since start
	clients     int
	offsets     []time.Duration // each receipt minus first
}

func (d tickDelivery) spread() time.Duration { return time.Duration(d.last - d.first) }

// groupTicks turns every client's receipts into deliveries: receipts of one
// hash sorted by time, split wherever gap passes without one. The result is
// in order of first receipt.
func groupTicks(clients [][]receipt, gap time.Duration) []tickDelivery {
	byHash := map[uint64][]int64{}
	sizes := map[uint64]int{}
	for _, rs := range clients {
		for _, r := range rs {
			byHash[r.hash] = append(byHash[r.hash], r.at)
			sizes[r.hash] = r.size
		}
	}
	var out []tickDelivery
	for h, ts := range byHash {
		slices.Sort(ts)
		start := 0
		for i := 1; i <= len(ts); i++ {
			if i < len(ts) && ts[i]-ts[i-1] <= int64(gap) {
				continue
			}
			d := tickDelivery{hash: h, bytes: sizes[h], first: ts[start], last: ts[i-1], clients: i - start}
			d.offsets = make([]time.Duration, 0, d.clients)
			for _, t := range ts[start:i] {
				d.offsets = append(d.offsets, time.Duration(t-d.first))
			}
			out = append(out, d)
			start = i
		}
	}
	slices.SortFunc(out, func(a, b tickDelivery) int { return int(a.first - b.first) })
	return out
}

// inWindow keeps the deliveries whose first receipt lies in [from, to) and
// that reached at least minClients: a broadcast that began before recording
// started, or one only a few clients got (an announcement to one session),
// is not a tick of the window.
func inWindow(ds []tickDelivery, from, to int64, minClients int) []tickDelivery {
	var out []tickDelivery
	for _, d := range ds {
		if d.first >= from && d.first < to && d.clients >= minClients {
			out = append(out, d)
		}
	}
	return out
}
