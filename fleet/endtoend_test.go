package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/model"
)

// TestEndToEnd_AgentToHub: an agent's sample, result and event arrive at
// the hub and are stored under the agent's host, with its hello.
func TestEndToEnd_AgentToHub(t *testing.T) {
	dir := t.TempDir()
	hubStore := openStore(t, filepath.Join(dir, "hub.db"))
	hubRec := newRecorder(t, filepath.Join(dir, "hubrec.db"))
	h, _ := startHub(t, hubConfig(t, "127.0.0.1:0"), hubStore, dir, hubRec)
	a := startAgent(t, "web-1", []string{h.Embedded().ClientURL()}, t.TempDir())

	t0 := time.Now().Truncate(time.Millisecond)
	a.sample(t, t0, 12.5)
	a.rec.Result(model.Result{Check: "web", Time: t0, State: model.StateDown, Latency: 3 * time.Millisecond, Reason: "HTTP 503"})
	a.rec.Event(model.Event{Time: t0, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "HTTP 503"})

	eventually(t, 15*time.Second, "sample, result and event stored for web-1", func() (bool, string) {
		s := hostSamples(t, hubStore, "web-1")
		r, _ := hubStore.HostResults("web-1", t0.Add(-time.Second), t0.Add(time.Second), 10)
		e, _ := hubStore.HostEvents("web-1", 10)
		return len(s) == 1 && len(r) == 1 && len(e) >= 1, "" // the recorder may add none of its own
	})
	s := hostSamples(t, hubStore, "web-1")
	if !s[0].Time.Equal(t0) || len(s[0].Points) != 3 || s[0].Points[0] != (model.Point{Series: "cpu.total", Value: 12.5}) ||
		s[0].Points[2].Series != "disk.used_pct{mount=/}" {
		t.Errorf("stored sample = %+v, want the agent's at %s", s[0], t0)
	}
	r, _ := hubStore.HostResults("web-1", t0.Add(-time.Second), t0.Add(time.Second), 10)
	if r[0].Check != "web" || r[0].State != model.StateDown || r[0].Reason != "HTTP 503" || !r[0].Time.Equal(t0) {
		t.Errorf("stored result = %+v", r[0])
	}
	e, _ := hubStore.HostEvents("web-1", 10)
	if last := e[len(e)-1]; last.Check != "web" || last.To != model.StateDown || last.ID == 0 {
		t.Errorf("stored event = %+v, want web down with the agent's event id", last)
	}
	if other := hostSamples(t, hubStore, "db-1"); len(other) != 0 {
		t.Errorf("db-1 has %d samples, want none", len(other))
	}
	eventually(t, 5*time.Second, "hello recorded", func() (bool, string) {
		hosts, err := hubStore.Hosts()
		if err != nil || len(hosts) != 1 {
			return false, "no host yet"
		}
		hi := hosts[0]
		return hi.Name == "web-1" && hi.OS == "linux" && hi.Labels["env"] == "test" && hi.Interval == 100*time.Millisecond &&
			!hi.LastSeen.IsZero(), ""
	})
	// The registry hears of the hello after its commit, so it may trail
	// the store by a moment.
	eventually(t, 5*time.Second, "hello in the registry", func() (bool, string) {
		got := h.Registry().Hosts()
		return len(got) == 1 && got[0].Kernel == "6.1.0", fmt.Sprintf("registry = %+v", got)
	})
}

// TestIngester_RestartMidStreamLosesNothing stops the hub's consumer
// while the agent keeps publishing and starts a new one on the same
// durable: every sample is stored exactly once.
func TestIngester_RestartMidStreamLosesNothing(t *testing.T) {
	dir := t.TempDir()
	f := hubConfig(t, "127.0.0.1:0")
	emb, err := StartEmbedded(EmbeddedOptions{Listen: f.NATS.Embedded.Listen, StoreDir: filepath.Join(dir, "nats"),
		MaxStore: int64(f.NATS.Embedded.MaxStore), Agents: f.Agents})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureStream(context.Background(), js, f.Stream); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, filepath.Join(dir, "hub.db"))
	startIngest := func() func() {
		in, err := NewIngester(IngestOptions{JS: js, Store: store, Stream: f.Stream, Batch: 16})
		if err != nil {
			t.Fatal(err)
		}
		return runPart(t, in.Run)
	}
	a := startAgent(t, "web-1", []string{emb.ClientURL()}, t.TempDir())
	stop := startIngest()
	t0 := time.Now().Truncate(time.Millisecond)
	const n = 300
	for i := range n {
		a.sample(t, t0.Add(time.Duration(i)*time.Millisecond), float64(i))
		if i == 100 {
			eventually(t, 10*time.Second, "some samples stored", func() (bool, string) {
				return len(hostSamples(t, store, "web-1")) > 0, ""
			})
			stop() // mid-stream
		}
		if i == 200 {
			stop = startIngest()
		}
		if i%20 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	eventually(t, 20*time.Second, "all samples stored", func() (bool, string) {
		got := len(hostSamples(t, store, "web-1"))
		return got >= n, "have " + itoa(got)
	})
	checkSamples(t, hostSamples(t, store, "web-1"), t0, n)
}

// checkSamples asserts exactly n samples 1 ms apart from t0, each once,
// in time order, with value i.
func checkSamples(t *testing.T, s []model.Sample, t0 time.Time, n int) {
	t.Helper()
	if len(s) != n {
		t.Fatalf("stored %d samples, want %d", len(s), n)
	}
	for i, x := range s {
		if want := t0.Add(time.Duration(i) * time.Millisecond); !x.Time.Equal(want) || x.Points[0].Value != float64(i) {
			t.Fatalf("sample %d = %s %v, want %s value %d", i, x.Time, x.Points[0].Value, want, i)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}
