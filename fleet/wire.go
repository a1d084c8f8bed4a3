package fleet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dashd/dashd/model"
)

// Bounds of what a hub accepts in one message (a hostile or broken agent
// cannot make it allocate more).
const (
	MaxPayload      = 1 << 20 // NATS's own default max_payload
	MaxPoints       = 4096
	MaxSeriesName   = 256
	maxJSONMessage  = 64 << 10
	sampleWireV1    = 1
	maxCheckNameLen = 256
)

// ErrBadMessage is returned (wrapped) for a message a hub refuses.
var ErrBadMessage = errors.New("fleet: bad message")

// Message is one message ready to publish (and what the spool keeps).
type Message struct {
	Subject string
	ID      string // Nats-Msg-Id
	Data    []byte
}

// EncodeSample encodes a sample: version byte, time (varint ms), point
// count, then per point the length of the prefix it shares with the
// previous series name, uvarint(suffix length<<1 | wide), the suffix, and
// the value as float32 bits (or float64 when wide: not exact as float32).
func EncodeSample(s model.Sample) []byte {
	b := make([]byte, 0, 16+len(s.Points)*10)
	b = append(b, sampleWireV1)
	b = binary.AppendVarint(b, s.Time.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(s.Points)))
	prev := ""
	for _, p := range s.Points {
		shared := 0
		for shared < len(prev) && shared < len(p.Series) && prev[shared] == p.Series[shared] {
			shared++
		}
		suffix := p.Series[shared:]
		b = binary.AppendUvarint(b, uint64(shared))
		f := float32(p.Value)
		wide := float64(f) != p.Value && !math.IsNaN(p.Value)
		w := uint64(len(suffix)) << 1
		if wide {
			w |= 1
		}
		b = binary.AppendUvarint(b, w)
		b = append(b, suffix...)
		if wide {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(p.Value))
		} else {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(f))
		}
		prev = p.Series
	}
	return b
}

// DecodeSample is the inverse of EncodeSample; it refuses anything out of
// bounds.
func DecodeSample(data []byte) (model.Sample, error) {
	bad := func(what string) (model.Sample, error) {
		return model.Sample{}, fmt.Errorf("%w: sample: %s", ErrBadMessage, what)
	}
	if len(data) > MaxPayload {
		return bad("too large")
	}
	if len(data) < 1 || data[0] != sampleWireV1 {
		return bad("unknown version")
	}
	r := data[1:]
	ms, n := binary.Varint(r)
	if n <= 0 {
		return bad("time")
	}
	r = r[n:]
	count, n := binary.Uvarint(r)
	if n <= 0 || count > MaxPoints {
		return bad("point count")
	}
	r = r[n:]
	s := model.Sample{Time: time.UnixMilli(ms), Points: make([]model.Point, 0, count)}
	prev := ""
	for range count {
		shared, n := binary.Uvarint(r)
		if n <= 0 || shared > uint64(len(prev)) {
			return bad("name prefix")
		}
		r = r[n:]
		w, n := binary.Uvarint(r)
		if n <= 0 {
			return bad("name length")
		}
		r = r[n:]
		l := w >> 1
		if shared+l > MaxSeriesName || l > uint64(len(r)) {
			return bad("name too long")
		}
		name := prev[:shared] + string(r[:l])
		r = r[l:]
		if name == "" || !utf8.ValidString(name) {
			return bad("series name")
		}
		var v float64
		if w&1 == 1 {
			if len(r) < 8 {
				return bad("value")
			}
			v = math.Float64frombits(binary.BigEndian.Uint64(r))
			r = r[8:]
		} else {
			if len(r) < 4 {
				return bad("value")
			}
			v = float64(math.Float32frombits(binary.BigEndian.Uint32(r)))
			r = r[4:]
		}
		s.Points = append(s.Points, model.Point{Series: name, Value: v})
		prev = name
	}
	if len(r) != 0 {
		return bad("trailing bytes")
	}
	return s, nil
}

// Hello introduces a host to the hub; the agent sends it when it
// (re)connects.
type Hello struct {
	Host    string            `json:"host"`
	OS      string            `json:"os,omitempty"`
	Kernel  string            `json:"kernel,omitempty"`
	Version string            `json:"version,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// IntervalMs is the agent's sample interval: the hub's clock for
	// calling it unreachable.
	IntervalMs int64     `json:"interval_ms,omitempty"`
	Time       time.Time `json:"time"`
}

// decodeJSON decodes a bounded JSON message.
func decodeJSON(kind Kind, data []byte, v any) error {
	if len(data) > maxJSONMessage {
		return fmt.Errorf("%w: %s: %d bytes, at most %d", ErrBadMessage, kind, len(data), maxJSONMessage)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadMessage, kind, err)
	}
	return nil
}

// DecodeResult decodes and checks a result message.
func DecodeResult(data []byte) (model.Result, error) {
	var r model.Result
	if err := decodeJSON(KindResult, data, &r); err != nil {
		return r, err
	}
	if r.Check == "" || len(r.Check) > maxCheckNameLen || r.Time.IsZero() {
		return r, fmt.Errorf("%w: result: check name or time missing or too long", ErrBadMessage)
	}
	return r, nil
}

// DecodeEvent decodes and checks an event message. An event of kind
// alert is an agent's host metric rule firing or resolving and must come
// with its alert (RuleAlert), returned as al; al is nil for every other
// event.
func DecodeEvent(data []byte) (e model.Event, al *model.Alert, err error) {
	var w eventWire
	if err := decodeJSON(KindEvent, data, &w); err != nil {
		return w.Event, nil, err
	}
	e = w.Event
	if e.Kind == "" || e.Time.IsZero() || len(e.Check) > maxCheckNameLen {
		return e, nil, fmt.Errorf("%w: event: kind or time missing, or check name too long", ErrBadMessage)
	}
	if e.Kind != model.EventAlert && w.Alert == nil {
		return e, nil, nil
	}
	if e.Kind != model.EventAlert {
		return e, nil, fmt.Errorf("%w: event: an alert on an event of kind %q", ErrBadMessage, e.Kind)
	}
	if w.Alert == nil {
		return e, nil, fmt.Errorf("%w: event: alert event %q without its alert", ErrBadMessage, e.Check)
	}
	if err := w.Alert.check(e); err != nil {
		return e, nil, fmt.Errorf("%w: event: alert %q: %v", ErrBadMessage, e.Check, err)
	}
	return e, &model.Alert{Key: e.Check, Source: model.AlertSourceRule, Severity: w.Alert.Severity,
		Summary: w.Alert.Summary, Reason: w.Alert.Reason, Labels: w.Alert.Labels}, nil
}

// DecodeHello decodes and checks a hello for host (a hello naming another
// host is refused).
func DecodeHello(host string, data []byte) (Hello, error) {
	var h Hello
	if err := decodeJSON(KindHello, data, &h); err != nil {
		return h, err
	}
	if h.Host != host {
		return h, fmt.Errorf("%w: hello from %q on %q's subject", ErrBadMessage, h.Host, host)
	}
	if len(h.Labels) > 64 || len(h.OS)+len(h.Kernel)+len(h.Version) > 1024 {
		return h, fmt.Errorf("%w: hello: too many labels or fields too long", ErrBadMessage)
	}
	return h, nil
}

// MessageID is a message's Nats-Msg-Id: host, kind, and what makes the
// message unique on that host (its original time, and the check or the
// event id), so the same finding always gets the same id.
func MessageID(host string, k Kind, t time.Time, extra string) string {
	id := host + ":" + string(k[:1]) + ":" + strconv.FormatInt(t.UnixNano(), 36)
	if extra != "" {
		id += ":" + extra
	}
	return id
}

// SampleMessage, ResultMessage, EventMessage and HelloMessage build the
// messages of one host.
func SampleMessage(host string, s model.Sample) Message {
	return Message{Subject: Subject(host, KindSample), ID: MessageID(host, KindSample, s.Time, ""), Data: EncodeSample(s)}
}

// ResultMessage: see SampleMessage.
func ResultMessage(host string, r model.Result) (Message, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode result of %s: %w", r.Check, err)
	}
	h := fnv.New64a()
	h.Write([]byte(r.Check))
	return Message{Subject: Subject(host, KindResult), ID: MessageID(host, KindResult, r.Time, strconv.FormatUint(h.Sum64(), 36)), Data: data}, nil
}

// EventMessage: see SampleMessage. An event of kind alert goes with its
// alert: AlertEventMessage.
func EventMessage(host string, e model.Event) (Message, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode event: %w", err)
	}
	return Message{Subject: Subject(host, KindEvent), ID: MessageID(host, KindEvent, e.Time, strconv.FormatUint(e.ID, 36)), Data: data}, nil
}

// HelloMessage: see SampleMessage.
func HelloMessage(h Hello) (Message, error) {
	data, err := json.Marshal(h)
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode hello: %w", err)
	}
	return Message{Subject: Subject(h.Host, KindHello), ID: MessageID(h.Host, KindHello, h.Time, ""), Data: data}, nil
}
