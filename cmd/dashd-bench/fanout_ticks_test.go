package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestChunkReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool // an error other than the terminating chunk's io.EOF
	}{
		{name: "two chunks and the end", in: "3\r\nabc\r\na;ext=1\r\n0123456789\r\n0\r\n\r\n", want: []string{"abc", "0123456789"}},
		{name: "cut short", in: "5\r\nab", wantErr: true},
		{name: "bad size", in: "zz\r\nab\r\n", wantErr: true},
		{name: "no CRLF after data", in: "2\r\nabXY", wantErr: true},
		{name: "over the bound", in: "7fffffff\r\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &chunkReader{br: bufio.NewReader(strings.NewReader(tt.in))}
			var got []string
			var err error
			for {
				var p []byte
				if p, err = r.next(); err != nil {
					break
				}
				got = append(got, string(p))
			}
			if tt.wantErr == errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want an error other than EOF: %v", err, tt.wantErr)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("chunks %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadFramesRoundTrip(t *testing.T) {
	frames := [][]byte{chunkFrame([]byte("event: a\ndata: x\n\n")), chunkFrame(bytes.Repeat([]byte("y"), 5000))}
	got, err := readFrames(bytes.NewReader(bytes.Join(frames, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], frames[0]) || !bytes.Equal(got[1], frames[1]) {
		t.Fatalf("frames %q, want %q", got, frames)
	}
}

func TestGroupTicks(t *testing.T) {
	ms := func(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name    string
		clients [][]receipt
		want    []tickDelivery // first, last, clients, hash only
	}{
		{
			name: "one tick, three clients",
			clients: [][]receipt{
				{{hash: 1, at: ms(1000)}}, {{hash: 1, at: ms(1030)}}, {{hash: 1, at: ms(1010)}},
			},
			want: []tickDelivery{{hash: 1, first: ms(1000), last: ms(1030), clients: 3}},
		},
		{
			name: "identical bytes a second apart are two ticks",
			clients: [][]receipt{
				{{hash: 7, at: ms(1000)}, {hash: 7, at: ms(2000)}},
				{{hash: 7, at: ms(1100)}, {hash: 7, at: ms(2150)}},
			},
			want: []tickDelivery{
				{hash: 7, first: ms(1000), last: ms(1100), clients: 2},
				{hash: 7, first: ms(2000), last: ms(2150), clients: 2},
			},
		},
		{
			name: "different bytes in one tick are apart",
			clients: [][]receipt{
				{{hash: 1, at: ms(1000)}, {hash: 2, at: ms(2000)}},
				{{hash: 1, at: ms(1050)}, {hash: 2, at: ms(2001)}},
			},
			want: []tickDelivery{
				{hash: 1, first: ms(1000), last: ms(1050), clients: 2},
				{hash: 2, first: ms(2000), last: ms(2001), clients: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := groupTicks(tt.clients, tickGap)
			if len(got) != len(tt.want) {
				t.Fatalf("%d deliveries, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.hash != w.hash || g.first != w.first || g.last != w.last || g.clients != w.clients || len(g.offsets) != w.clients {
					t.Errorf("delivery %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestInWindow(t *testing.T) {
	ds := []tickDelivery{
		{hash: 1, first: 5, clients: 10},  // before the window
		{hash: 2, first: 10, clients: 10}, // at its start
		{hash: 3, first: 15, clients: 2},  // too few clients
		{hash: 4, first: 19, clients: 10},
		{hash: 5, first: 20, clients: 10}, // at its end: out
	}
	got := inWindow(ds, 10, 20, 5)
	if len(got) != 2 || got[0].hash != 2 || got[1].hash != 4 {
		t.Fatalf("inWindow = %+v, want hashes 2 and 4", got)
	}
}
