package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse_FleetDefaults(t *testing.T) {
	cfg, problems := parse(t, "checks: []\nfleet:\n  host: web-1\n  labels: {env: prod}\n  nats:\n    urls: [nats://127.0.0.1:4222]\n", nil)
	if problems != nil {
		t.Fatalf("problems: %q", problems)
	}
	f := cfg.Fleet
	if f == nil || f.Host != "web-1" || f.Labels["env"] != "prod" || f.UsesEmbedded() {
		t.Fatalf("fleet = %+v", f)
	}
	if f.Spool.MaxSize != 64*MB || f.UnreachableIntervals != 5 || f.Stream.Replicas != 1 ||
		f.Stream.DuplicateWindow.D() != 2*time.Minute || f.NATS.Embedded.Listen != DefaultFleetListen {
		t.Errorf("defaults not applied: %+v", f)
	}
	if none, _ := parse(t, "checks: []\n", nil); none.Fleet != nil {
		t.Errorf("no fleet section gave %+v, want nil", none.Fleet)
	}
}

func TestParse_FleetErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings, one per problem, in order
	}{
		{"host not a subject token", "fleet:\n  host: web.1\n", []string{"c.yaml:3:9: fleet.host: \"web.1\": fleet host names"}},
		{"urls and embedded", "fleet:\n  nats:\n    urls: [nats://h:4222]\n    embedded: {listen: 127.0.0.1:4222}\n",
			[]string{"fleet.nats.embedded: set either urls"}},
		{"bad url", "fleet:\n  nats:\n    urls: [http://h:4222]\n", []string{"c.yaml:4:12: fleet.nats.urls[0]: want nats://"}},
		{"agent without credentials", "fleet:\n  agents:\n    - host: web-1\n", []string{"fleet.agents[0].password: missing"}},
		{"duplicate agent", "fleet:\n  agents:\n    - {host: a, password: aaaaaaaaaaaaaaaa}\n    - {host: a, password: bbbbbbbbbbbbbbbb}\n",
			[]string{"fleet.agents[1].user: duplicate user \"a\"", "fleet.agents[1].host: duplicate host \"a\""}},
		{"bad nkey", "fleet:\n  agents:\n    - {host: a, nkey: Uxyz}\n", []string{"fleet.agents[0].nkey: want the agent's public user key"}},
		{"spool too small", "fleet:\n  spool: {max_size: 1KB}\n", []string{"fleet.spool.max_size: must be between"}},
		{"stream larger than the store", "fleet:\n  nats:\n    embedded: {max_store: 100MB}\n  stream: {max_bytes: 200MB}\n",
			[]string{"fleet.stream.max_bytes: 200MB and the hubs' actions stream (16MiB) do not fit"}},
		// The actions stream's reserve counts too: a fleet stream the
		// size of the store leaves it no room.
		{"no room for the actions stream", "fleet:\n  nats:\n    embedded: {max_store: 100MB}\n  stream: {max_bytes: 100MB}\n",
			[]string{"fleet.stream.max_bytes: 100MB and the hubs' actions stream (16MiB) do not fit in nats.embedded.max_store (100MB)"}},
		{"unknown key", "fleet:\n  hostt: x\n", []string{"fleet.hostt: unknown key (did you mean \"host\"?)"}},
		{"hub raw too short", "fleet:\n  hub_raw: 10s\n", []string{"fleet.hub_raw: must be between 1m and 24h, got 10s"}},
		{"bad hub name", "fleet:\n  name: Hub.A\n", []string{"fleet.name: \"Hub.A\""}},
		{"peer hub short password", "fleet:\n  hubs: [{host: hub-b, password: short}]\n", []string{"fleet.hubs[0].password: must be at least 12 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := parse(t, "checks: []\n"+tt.src, nil)
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d", problems, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], w)
				}
			}
		})
	}
}

func TestFleetHostFrom(t *testing.T) {
	tests := map[string]string{"Web-1.example.org": "web-1", "db_2": "db_2", "x y": "x-y", "...": "", "-a": "a"}
	got := map[string]string{}
	for in := range tests {
		got[in] = FleetHostFrom(in)
	}
	if !reflect.DeepEqual(got, tests) {
		t.Errorf("FleetHostFrom = %q, want %q", got, tests)
	}
}
