package fleet

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestOutage_SpoolDrainsOnceInOrder stops the whole hub (NATS included)
// for a few seconds while the agent keeps sampling: the agent spools,
// drains when NATS is back, and every sample is in the stream exactly
// once and in order, and stored exactly once.
func TestOutage_SpoolDrainsOnceInOrder(t *testing.T) {
	dir := t.TempDir()
	listen := freePort(t)
	f := hubConfig(t, listen)
	store := openStore(t, filepath.Join(dir, "hub.db"))
	rec := newRecorder(t, filepath.Join(dir, "rec.db"))
	h, stopHub := startHub(t, f, store, dir, rec)
	a := startAgent(t, "web-1", []string{h.Embedded().ClientURL()}, t.TempDir())

	t0 := time.Now().Truncate(time.Millisecond)
	const n = 120
	for i := range n {
		if i == 30 {
			stopHub()
			eventually(t, 10*time.Second, "agent disconnected", func() (bool, string) { return !a.nc.IsConnected(), "" })
		}
		if i == 90 {
			if a.spool.Len() == 0 {
				t.Fatalf("nothing spooled during the outage")
			}
			h, stopHub = startHub(t, f, store, dir, rec)
		}
		a.sample(t, t0.Add(time.Duration(i)*time.Millisecond), float64(i))
		time.Sleep(30 * time.Millisecond) // 60 samples over ~2 s of outage
	}
	eventually(t, 30*time.Second, "all samples stored", func() (bool, string) {
		got := len(hostSamples(t, store, "web-1"))
		return got >= n && a.spool.Len() == 0, "stored " + itoa(got) + ", spooled " + itoa(a.spool.Len())
	})
	checkSamples(t, hostSamples(t, store, "web-1"), t0, n)
	if st := a.pub.Stats(); st.Spooled == 0 || st.SpoolDropped != 0 {
		t.Errorf("publisher stats %+v: want some spooled, none dropped", st)
	}

	// The stream itself holds each sample once, in the order made.
	nc, err := h.Embedded().Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	streamTimes := streamSampleTimes(t, nc, "web-1")
	if len(streamTimes) != n {
		t.Fatalf("stream holds %d samples of web-1, want %d (each once)", len(streamTimes), n)
	}
	for i := 1; i < len(streamTimes); i++ {
		if !streamTimes[i].After(streamTimes[i-1]) {
			t.Fatalf("stream order: sample %d at %s not after %s", i, streamTimes[i], streamTimes[i-1])
		}
	}
}

// streamSampleTimes reads host's samples from the stream in stream order.
func streamSampleTimes(t *testing.T, nc *nats.Conn, host string) []time.Time {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{Subject(host, KindSample)}})
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for {
		b, err := c.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range b.Messages() {
			got++
			s, err := DecodeSample(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s.Time)
		}
		if got == 0 {
			if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
				t.Fatal(err)
			}
			return out
		}
	}
}

// TestDedup_RepublishedMessageStoredOnce publishes the same message (same
// Nats-Msg-Id) twice, as an agent does when an acknowledgement was lost:
// the stream keeps one.
func TestDedup_RepublishedMessageStoredOnce(t *testing.T) {
	f := hubConfig(t, "127.0.0.1:0")
	emb, err := StartEmbedded(EmbeddedOptions{Listen: f.NATS.Embedded.Listen, StoreDir: t.TempDir(), MaxStore: 64 << 20, Agents: f.Agents})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	s, err := EnsureStream(ctx, js, f.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m := SampleMessage("web-1", sampleAt(time.Now(), 1))
	for i := range 3 {
		ack, err := js.PublishMsg(ctx, &nats.Msg{Subject: m.Subject, Data: m.Data}, jetstream.WithMsgID(m.ID))
		if err != nil {
			t.Fatal(err)
		}
		if (i > 0) != ack.Duplicate {
			t.Errorf("publish %d: duplicate = %v", i, ack.Duplicate)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}
