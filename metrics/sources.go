package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/storage"
)

// HostSource is the latest host state, as *state.Latest holds it. Defined
// here, where it is used, so the metrics depend on two methods and not on
// the whole state package.
type HostSource interface {
	// System returns the newest host sample and whether there is one yet.
	System() (system.Snapshot, bool)
	// Samples counts host samples taken since start.
	Samples() uint64
}

// ChecksSource is the checks' latest state, as *collectors.Runner holds it.
type ChecksSource interface {
	// Statuses returns the latest state of every check, as copies.
	Statuses() []collectors.Status
}

// HubSource is the SSE hub's counters, as *hub.Hub keeps them.
type HubSource interface {
	// Stats returns a snapshot of the hub's gauges and counters.
	Stats() hub.Stats
}

// StorageSource is the history database, as *storage.DB is.
type StorageSource interface {
	// Size returns the size of the database file; it fails when the file
	// cannot be read (removed, its disk gone).
	Size() (int64, error)
	// WriteHealth reports how the writer's commits are going.
	WriteHealth() storage.WriteHealth
}

// FlowSource is the flow of results and events, as *flow.Recorder is.
type FlowSource interface {
	// Subscriptions lists the subscribers, with their drop counts.
	Subscriptions() []*flow.Subscription
}

// Sources are the parts /metrics reads at scrape time. Every field but
// Logger is required: New refuses a nil one (tests build real parts).
type Sources struct {
	// Host is the latest host sample (*state.Latest).
	Host HostSource
	// Checks is the check runner (*collectors.Runner).
	Checks ChecksSource
	// Hub is the SSE hub (*hub.Hub).
	Hub HubSource
	// Storage is the history database (*storage.DB).
	Storage StorageSource
	// Flow is the flow recorder (*flow.Recorder).
	Flow FlowSource
	// Alerts is the alerter (*alert.Alerter, with the outbox statistics
	// of storage).
	Alerts AlertsSource
	// Listener returns the HTTP listener's counters
	// (connlimit.Listener.Stats). A server that has not started serving
	// yet answers zeros.
	Listener func() connlimit.Stats
	// TextfileDirectory, when not empty, is the textfile collector's
	// directory (config metrics.textfile_directory): its *.prom files are
	// merged into every scrape (see textfile). Optional.
	TextfileDirectory string
	// Version is dashd's version, exported as dashd_build_info{version}.
	Version string
	// Logger receives parts that fail or recover and gather errors;
	// slog.Default() when nil.
	Logger *slog.Logger
}

// validate returns one ErrMissingSource per missing field, joined.
func (s Sources) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    any
	}{
		{"Host", s.Host},
		{"Checks", s.Checks},
		{"Hub", s.Hub},
		{"Storage", s.Storage},
		{"Listener", s.Listener},
		{"Flow", s.Flow},
		{"Alerts", s.Alerts},
	} {
		if isNil(f.v) {
			errs = append(errs, fmt.Errorf("%w: Sources.%s is nil", ErrMissingSource, f.name))
		}
	}
	if s.Version == "" {
		errs = append(errs, fmt.Errorf("%w: Sources.Version is empty", ErrMissingSource))
	}
	return errors.Join(errs...)
}

// isNil reports whether v is nil, including a typed nil pointer or func
// inside an interface (a nil *storage.DB passed as Storage), which == nil
// does not catch and which would only fail at the first scrape.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan:
		return rv.IsNil()
	}
	return false
}
