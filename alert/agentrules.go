package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/dashd/dashd/alert/rules"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
)

// # Rules on agents
//
// A fleet agent evaluates the host metric rules of its own configuration
// (alerts.rules, the same format and shipped defaults as dashd serve) on
// its own samples, where the raw data is: AgentRules is that evaluation,
// the Alerter's own (ruleEval), without channels, routes or delivery.
// Each transition is recorded through the agent's flow as an event of
// kind alert keyed "rule:<rule>[:<instance>]"; AgentRules attaches the
// alert itself to that event, so the agent's storage keeps which rule
// alerts fire (a restarted agent resolves them when their value comes
// back) and the fleet publisher sends the event with its alert to the
// hub. There HostEvent turns it into the alert "rule:...@<host>", labelled
// with the host and its hello labels, routed and delivered like any.

// AgentStore is the part of an agent's storage AgentRules reads: the rule
// alerts that fired when it last stopped, and the history disk-full
// predictions fit (a *storage.DB).
type AgentStore interface {
	rules.History
	ActiveAlerts() ([]model.Alert, error)
}

// AgentRulesOptions configures AgentRules. Every field but Logger is
// required.
type AgentRulesOptions struct {
	Store AgentStore
	// Latest is the agent's latest state: its configuration (a reload
	// sets a new one) and its newest host sample (a *state.Latest).
	Latest Latest
	// Recorder is the agent's flow: AgentRules attaches to it and
	// records its alert events through it.
	Recorder Recorder
	// Host is the agent's fleet host name (the alerts' host label).
	Host   string
	Logger *slog.Logger
}

// AgentRules evaluates a fleet agent's host metric rules; see "Rules on
// agents". Create it with NewAgentRules (which attaches it to the flow)
// and run it with Run.
type AgentRules struct {
	o    AgentRulesOptions
	log  *slog.Logger
	eval *ruleEval // owned by Run's goroutine

	// mu guards handoff: the alert of the next event of kind alert, set
	// by record and taken by Attach on the same call stack.
	mu      sync.Mutex
	handoff *model.Alert
}

var _ flow.Attacher = (*AgentRules)(nil)

// NewAgentRules returns AgentRules attached to the agent's flow, or an
// error naming a missing part or saying why storage could not be read.
// It reads the rule alerts that still fired when the agent stopped, so
// that they resolve when their value comes back.
func NewAgentRules(o AgentRulesOptions) (*AgentRules, error) {
	if o.Store == nil || o.Latest == nil || o.Recorder == nil || o.Host == "" {
		return nil, errors.New("alert: agent rules need Store, Latest, Recorder and Host")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	firing, err := o.Store.ActiveAlerts()
	if err != nil {
		return nil, fmt.Errorf("alert: agent rules: load firing alerts: %w", err)
	}
	r := &AgentRules{o: o, log: o.Logger}
	r.eval = newRuleEval(o.Latest.Config(), firing, o.Host, o.Store, o.Logger)
	o.Recorder.Attach(r)
	return r, nil
}

// Attach gives the agent's storage (and the fleet publisher, which tees
// it) the alert of an alert event AgentRules records; other events carry
// nothing.
func (r *AgentRules) Attach(e model.Event) model.AlertChange {
	if e.Kind != model.EventAlert {
		return model.AlertChange{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handoff == nil || r.handoff.Key != e.Check {
		return model.AlertChange{}
	}
	al := *r.handoff
	r.handoff = nil
	return model.AlertChange{Alerts: []model.Alert{al}}
}

// Run evaluates the rules on every host sample until ctx ends, taking up
// a reloaded configuration's rules at the next sample; it returns nil
// then. It starts no goroutine.
func (r *AgentRules) Run(ctx context.Context) error {
	for {
		next := r.o.Latest.NextSystem()
		select {
		case <-ctx.Done():
			return nil
		case <-next:
			r.sample()
		}
	}
}

// sample applies a changed configuration, then evaluates the newest
// sample.
func (r *AgentRules) sample() {
	for _, al := range r.eval.apply(r.o.Latest.Config()) {
		r.record(al)
	}
	snap, ok := r.o.Latest.System()
	if !ok {
		return
	}
	for _, al := range r.eval.observe(snap) {
		r.record(al)
	}
}

// record records an alert change as an event of the agent's flow, with
// the alert attached.
func (r *AgentRules) record(al model.Alert) {
	r.log.Info("rule alert", "key", al.Key, "state", al.State, "severity", al.Severity, "summary", al.Summary)
	r.mu.Lock()
	r.handoff = &al
	r.mu.Unlock()
	r.o.Recorder.Event(alertEvent(al, changedAt(al)))
	r.mu.Lock()
	r.handoff = nil // taken by Attach; cleared should the recorder not have called it
	r.mu.Unlock()
}
