package main

// The simulated agents of `dashd-bench fleet`: one real NATS connection
// each (the agent's own client options, fleet.ConnectOptions), publishing
// what `dashd agent` publishes in its wire format (fleet.SampleMessage,
// ResultMessage, EventMessage, HelloMessage, with their Nats-Msg-Id) and
// waiting for JetStream's acknowledgement as its Publisher does. They do
// not use fleet.Publisher itself: that needs a bbolt spool file and a flow
// subscription per agent, 1,000 of each in one process, which would
// measure the load generator rather than the hub.

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/model"
)

// simCounters are the load's totals, shared by every agent.
type simCounters struct {
	wireOut, wireIn atomic.Uint64 // bytes on the agents' sockets
	payload         atomic.Uint64 // message payload bytes published
	msgs            atomic.Uint64 // messages published
	samples         atomic.Uint64
	results         atomic.Uint64
	failed          atomic.Uint64 // publishes refused or not acknowledged

	mu   sync.Mutex
	acks []time.Duration // sample publish -> JetStream ack, while recording
	rec  bool
}

func (c *simCounters) ack(d time.Duration) {
	c.mu.Lock()
	if c.rec {
		c.acks = append(c.acks, d)
	}
	c.mu.Unlock()
}

// record starts or stops collecting ack latencies and returns those
// collected so far.
func (c *simCounters) record(on bool) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec = on
	out := c.acks
	if on {
		c.acks = nil
	}
	return out
}

// simDialer counts the bytes of every connection it dials.
type simDialer struct{ c *simCounters }

func (d simDialer) Dial(network, address string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial(network, address)
	if err != nil {
		return nil, err
	}
	return simConn{Conn: conn, c: d.c}, nil
}

type simConn struct {
	net.Conn
	c *simCounters
}

func (c simConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.c.wireIn.Add(uint64(n))
	return n, err
}

func (c simConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.c.wireOut.Add(uint64(n))
	return n, err
}

// simAgent is one simulated host.
type simAgent struct {
	host  string
	nc    *nats.Conn
	js    jetstream.JetStream
	c     *simCounters
	pause atomic.Bool // stops publishing (a silent host)

	mu        sync.Mutex
	published []time.Time  // recent publish times, oldest first
	marks     []sampleMark // every sample, by sequence number (fleet_seq.go)
}

// simPassword is agent i's password in the hub's config.
func simPassword(host string) string { return "bench-secret-" + host }

// simHost names simulated agent i.
func simHost(i int) string { return fmt.Sprintf("sim-%04d", i) }

// dialSim connects one simulated agent to url with the agent's options.
func dialSim(url, host string, c *simCounters) (*simAgent, error) {
	opts, err := fleet.ConnectOptions(config.FleetNATS{User: host, Password: simPassword(host)}, host, nil)
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.SetCustomDialer(simDialer{c}), nats.RetryOnFailedConnect(false))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", host, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(512), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("agent %s: jetstream: %w", host, err)
	}
	return &simAgent{host: host, nc: nc, js: js, c: c}, nil
}

// publish sends msgs and waits for their acknowledgements, as the agent's
// Publisher does; it returns the acknowledgement latency of the first.
func (a *simAgent) publish(msgs []fleet.Message) (time.Duration, bool) {
	start := time.Now()
	a.mu.Lock()
	a.published = append(a.published, start)
	if len(a.published) > 64 {
		a.published = append(a.published[:0], a.published[len(a.published)-32:]...)
	}
	a.mu.Unlock()
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		f, err := a.js.PublishMsgAsync(&nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}, jetstream.WithMsgID(m.ID))
		if err != nil {
			a.c.failed.Add(uint64(len(msgs) - len(futures)))
			break
		}
		a.c.payload.Add(uint64(len(m.Data)))
		a.c.msgs.Add(1)
		futures = append(futures, f)
	}
	var first time.Duration
	ok := true
	timeout := time.NewTimer(6 * time.Second)
	defer timeout.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
			if i == 0 {
				first = time.Since(start)
			}
			continue
		case <-f.Err():
		case <-timeout.C:
		}
		a.c.failed.Add(uint64(len(futures) - i))
		ok = false
		break
	}
	return first, ok && len(futures) == len(msgs)
}

// publishedTimes returns a copy of the recent publish times.
func (a *simAgent) publishedTimes() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.published...)
}

// sampleMarks returns a copy of every sample's mark, in sequence order.
func (a *simAgent) sampleMarks() []sampleMark {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]sampleMark(nil), a.marks...)
}

// simLoad is what every agent sends: the sample's points and the checks.
type simLoad struct {
	points []model.Point
	checks []string
	offset time.Duration // this agent's phase within each second
	every  time.Duration // check results period
}

// run publishes a hello, then a sample every second and the checks'
// results every l.every, until ctx ends.
func (a *simAgent) run(ctx context.Context, l simLoad) {
	hello, err := fleet.HelloMessage(fleet.Hello{Host: a.host, OS: "linux", Kernel: "6.1.0-bench", Version: "bench",
		Labels: map[string]string{"env": "bench", "role": "sim"}, IntervalMs: 1000, Time: time.Now()})
	if err == nil {
		a.publish([]fleet.Message{hello})
	}
	// Every agent on its own phase, as real hosts are.
	select {
	case <-ctx.Done():
		return
	case <-time.After(l.offset):
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	nextChecks := time.Now().Add(time.Duration(float64(l.every) * l.offset.Seconds()))
	for {
		now := time.Now()
		if !a.pause.Load() {
			// The sample's sequence number shows in its tile (fleet_seq.go).
			a.mu.Lock()
			seq := len(a.marks)
			a.marks = append(a.marks, sampleMark{seq: seq, at: now})
			a.mu.Unlock()
			s := model.Sample{Time: now, Points: seqPoints(l.points, seq)}
			if d, ok := a.publish([]fleet.Message{fleet.SampleMessage(a.host, s)}); ok {
				a.c.samples.Add(1)
				a.c.ack(d)
				a.mu.Lock()
				a.marks[seq].acked = true
				a.mu.Unlock()
			}
			if !now.Before(nextChecks) {
				nextChecks = nextChecks.Add(l.every)
				batch := make([]fleet.Message, 0, len(l.checks))
				for _, name := range l.checks {
					m, err := fleet.ResultMessage(a.host, model.Result{Check: name, Time: now, State: model.StateUp,
						Latency: 12 * time.Millisecond, Values: map[string]float64{"status": 200}})
					if err == nil {
						batch = append(batch, m)
					}
				}
				if _, ok := a.publish(batch); ok {
					a.c.results.Add(uint64(len(batch)))
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkDown publishes check going down: its failed result and the
// up->down event, as the agent's recorder makes them.
func (a *simAgent) checkDown(check string, at time.Time) error {
	r, err := fleet.ResultMessage(a.host, model.Result{Check: check, Time: at, State: model.StateDown, Reason: "HTTP 503",
		Values: map[string]float64{"status": 503}})
	if err != nil {
		return err
	}
	e, err := fleet.EventMessage(a.host, model.Event{ID: uint64(at.UnixNano()), Time: at, Kind: model.EventCheck, Check: check,
		From: model.StateUp, To: model.StateDown, Reason: "HTTP 503"})
	if err != nil {
		return err
	}
	if _, ok := a.publish([]fleet.Message{r, e}); !ok {
		return fmt.Errorf("agent %s: check %s down not acknowledged", a.host, check)
	}
	return nil
}
