package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestCluster_NodeKilledLosesNothing runs three embedded servers as one
// JetStream cluster (replicas 3), an agent connected to two of them and
// the hub's ingester on the third, and kills the node the agent is
// connected to mid-stream: every sample is stored once, in order.
func TestCluster_NodeKilledLosesNothing(t *testing.T) {
	f := hubConfig(t, "127.0.0.1:0")
	f.Stream.Replicas = 3
	routes := []string{}
	listens := []string{}
	for range 3 {
		l := freePort(t)
		listens = append(listens, l)
		routes = append(routes, "nats-route://"+l)
	}
	dir := t.TempDir()
	nodes := make([]*Embedded, 3)
	for i := range nodes {
		var err error
		nodes[i], err = StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, fmt.Sprint("n", i)),
			MaxStore: 64 << 20, Agents: f.Agents, Name: fmt.Sprint("node-", i),
			Cluster: &ClusterOptions{Name: "dashd-test", Listen: listens[i], Routes: routes}})
		if err != nil {
			t.Fatal(err)
		}
		n := nodes[i]
		t.Cleanup(n.Shutdown)
	}
	nc, err := nodes[0].Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	// The cluster elects its meta leader first: retry until the stream
	// can be made with three replicas.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := EnsureStream(context.Background(), js, f.Stream)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Skipf("LOUD SKIP: a 3-node JetStream cluster did not form on loopback within 20s here: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	store := openStore(t, filepath.Join(dir, "hub.db"))
	in, err := NewIngester(IngestOptions{JS: js, Store: store, Stream: f.Stream, Batch: 32})
	if err != nil {
		t.Fatal(err)
	}
	runPart(t, in.Run)
	a := startAgent(t, "web-1", []string{nodes[1].ClientURL(), nodes[2].ClientURL()}, t.TempDir())
	eventually(t, 10*time.Second, "agent connected", func() (bool, string) { return a.nc.IsConnected(), "" })

	t0 := time.Now().Truncate(time.Millisecond)
	const n = 150
	for i := range n {
		if i == 50 {
			victim := nodes[1]
			if a.nc.ConnectedUrl() == nodes[2].ClientURL() {
				victim = nodes[2]
			}
			victim.Shutdown()
		}
		a.sample(t, t0.Add(time.Duration(i)*time.Millisecond), float64(i))
		time.Sleep(10 * time.Millisecond)
	}
	eventually(t, 30*time.Second, "all samples stored", func() (bool, string) {
		got := len(hostSamples(t, store, "web-1"))
		return got >= n && a.spool.Len() == 0, "stored " + itoa(got) + ", spooled " + itoa(a.spool.Len())
	})
	checkSamples(t, hostSamples(t, store, "web-1"), t0, n)
}
