package alert

import (
	"context"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestPage_SilenceOrigin: the alerts page says which hub of the site a
// shared silence was made on, and nothing for one made here.
func TestPage_SilenceOrigin(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "silence.yaml", silenceVars(hook.url()), clk)
	ctx := context.Background()
	tests := []struct {
		name string
		s    model.Silence
	}{
		{"made here", model.Silence{Checks: []string{"web"}, Author: "ann", Comment: "deploy"}},
		{"shared by hub-b", model.Silence{Checks: []string{"db"}, Author: "bob", Comment: "migration", Origin: "hub-b", OriginID: 7}},
	}
	want := map[uint64]string{}
	for _, tt := range tests {
		tt.s.End = clk.Now().Add(time.Hour)
		s, err := e.a.AddSilence(ctx, tt.s)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want[s.ID] = tt.s.Origin
	}
	v, err := e.a.Page(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Silences) != len(tests) {
		t.Fatalf("page silences %+v, want %d", v.Silences, len(tests))
	}
	for _, r := range v.Silences {
		if r.Origin != want[r.ID] {
			t.Errorf("silence #%d: origin %q, want %q", r.ID, r.Origin, want[r.ID])
		}
	}
}
