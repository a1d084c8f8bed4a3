package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// Bounds of a history request and its answer.
const (
	// MaxHistoryPoints is the most points one answer carries (a request
	// for more, or for every point, gets this many).
	MaxHistoryPoints = 2000
	// maxHistoryRequest bounds a request's bytes.
	maxHistoryRequest = 1024
	// DefaultHistoryTimeout bounds how long the hub waits for an agent.
	DefaultHistoryTimeout = 3 * time.Second
)

// ErrHistory is returned (wrapped) when an agent answered a history
// request with an error, or could not be asked.
var ErrHistory = errors.New("fleet: history request")

// HistoryRequest asks an agent for the points of one of its series.
type HistoryRequest struct {
	Series string `json:"series"`
	FromMs int64  `json:"from_ms"`
	ToMs   int64  `json:"to_ms"`
	Points int    `json:"points"`
}

// HistoryReply is an agent's answer: the points, or an error in words.
type HistoryReply struct {
	Points []HistoryPoint `json:"points,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// HistoryPoint is one point on the wire: time in ms, average, extremes.
type HistoryPoint struct {
	T   int64   `json:"t"`
	V   float64 `json:"v"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// RangeReader is what the agent's history service reads: the agent's own
// storage.
type RangeReader interface {
	Range(series string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
}

// HistoryService answers the hub's range requests for one agent's own
// history, raw tier included, on HistorySubject(host).
type HistoryService struct {
	nc    *nats.Conn
	host  string
	store RangeReader
	log   *slog.Logger
}

// NewHistoryService returns the agent's history service; Run serves it.
func NewHistoryService(nc *nats.Conn, host string, store RangeReader, log *slog.Logger) (*HistoryService, error) {
	if nc == nil || store == nil || !config.ValidFleetHost(host) {
		return nil, errors.New("fleet: history service needs a connection, a store and a valid host")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &HistoryService{nc: nc, host: host, store: store, log: log}, nil
}

// Run answers requests until ctx ends (one at a time, on the
// subscription's goroutine: a slow read delays the next request, it never
// piles up goroutines), then unsubscribes.
func (s *HistoryService) Run(ctx context.Context) error {
	sub, err := s.nc.Subscribe(HistorySubject(s.host), s.answer)
	if err != nil {
		return fmt.Errorf("fleet: subscribe %s: %w", HistorySubject(s.host), err)
	}
	// A few queued requests at most: the hub gives up after its timeout.
	_ = sub.SetPendingLimits(64, 64*maxHistoryRequest)
	<-ctx.Done()
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		s.log.Debug("history service unsubscribe", "err", err)
	}
	return nil
}

func (s *HistoryService) answer(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	reply := s.serve(m.Data)
	b, err := json.Marshal(reply)
	if err != nil {
		b, _ = json.Marshal(HistoryReply{Error: "answer not encodable: " + err.Error()})
	}
	if err := m.Respond(b); err != nil {
		s.log.Debug("history answer not sent", "err", err)
	}
}

// serve decodes and checks a request and reads the range.
func (s *HistoryService) serve(data []byte) HistoryReply {
	if len(data) > maxHistoryRequest {
		return HistoryReply{Error: fmt.Sprintf("request too large: %d bytes, at most %d", len(data), maxHistoryRequest)}
	}
	var q HistoryRequest
	if err := json.Unmarshal(data, &q); err != nil {
		return HistoryReply{Error: "bad request: " + err.Error()}
	}
	switch {
	case q.Series == "" || len(q.Series) > MaxSeriesName:
		return HistoryReply{Error: fmt.Sprintf("bad request: series name must be 1-%d bytes", MaxSeriesName)}
	case q.ToMs < q.FromMs:
		return HistoryReply{Error: "bad request: to before from"}
	}
	if q.Points <= 0 || q.Points > MaxHistoryPoints {
		q.Points = MaxHistoryPoints
	}
	pts, err := s.store.Range(q.Series, time.UnixMilli(q.FromMs), time.UnixMilli(q.ToMs), q.Points)
	if err != nil {
		s.log.Warn("history request failed", "series", q.Series, "err", err)
		return HistoryReply{Error: "reading history: " + err.Error()}
	}
	out := make([]HistoryPoint, len(pts))
	for i, p := range pts {
		out[i] = HistoryPoint{T: p.Time.UnixMilli(), V: p.Value, Min: p.Min, Max: p.Max}
	}
	return HistoryReply{Points: out}
}

// RequestHistory asks host's agent for a range over nc, waiting at most
// timeout (DefaultHistoryTimeout when <= 0).
func RequestHistory(ctx context.Context, nc *nats.Conn, host string, q HistoryRequest, timeout time.Duration) ([]storage.SeriesPoint, error) {
	if timeout <= 0 {
		timeout = DefaultHistoryTimeout
	}
	b, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHistory, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, HistorySubject(host), b)
	if err != nil {
		return nil, fmt.Errorf("%w to %s: %w", ErrHistory, host, err)
	}
	if len(m.Data) > MaxPayload {
		return nil, fmt.Errorf("%w to %s: answer too large", ErrHistory, host)
	}
	var r HistoryReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("%w to %s: bad answer: %w", ErrHistory, host, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("%w to %s: %s", ErrHistory, host, r.Error)
	}
	if len(r.Points) > MaxHistoryPoints {
		r.Points = r.Points[:MaxHistoryPoints]
	}
	out := make([]storage.SeriesPoint, len(r.Points))
	for i, p := range r.Points {
		out[i] = storage.SeriesPoint{Time: time.UnixMilli(p.T), Value: p.V, Min: p.Min, Max: p.Max}
	}
	return out, nil
}
