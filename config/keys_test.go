package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestParse_ServerAndChatKeys decodes the server.allowed_hosts,
// server.limits and chat sections as documented in config.yaml.
func TestParse_ServerAndChatKeys(t *testing.T) {
	src := `
server:
  listen: 127.0.0.1:8080
  allowed_hosts: [Dash.Example.org., "*.example.net", 192.0.2.7]
  limits:
    max_connections: 900
    max_connections_per_address: 100
    max_streams: 600
    max_streams_per_address: 50
chat:
  rooms: [general, ops-team, on_call]
  max_rooms: 5
  messages_per_minute: 10
  messages_per_minute_per_address: 30
  max_storage: 1GiB
checks: []
`
	cfg, problems := parse(t, src, nil)
	if problems != nil {
		t.Fatalf("problems: %q", problems)
	}
	if want := []string{"dash.example.org", "*.example.net", "192.0.2.7"}; !reflect.DeepEqual(cfg.Server.AllowedHosts, want) {
		t.Errorf("allowed_hosts = %q, want %q", cfg.Server.AllowedHosts, want)
	}
	if want := (Limits{900, 100, 600, 50}); cfg.Server.Limits != want {
		t.Errorf("limits = %+v", cfg.Server.Limits)
	}
	want := Chat{Rooms: []string{"general", "ops-team", "on_call"}, MaxRooms: 5, MessagesPerMinute: 10,
		MessagesPerMinutePerAddress: 30, MaxStorage: GiB}
	if !reflect.DeepEqual(cfg.Chat, want) {
		t.Errorf("chat = %+v, want %+v", cfg.Chat, want)
	}
}

func TestParse_ServerAndChatDefaults(t *testing.T) {
	cfg, problems := parse(t, "checks: []\n", nil)
	if problems != nil {
		t.Fatalf("problems: %q", problems)
	}
	if len(cfg.Server.AllowedHosts) != 0 || cfg.Server.Limits != (Limits{}) {
		t.Errorf("server = %+v, want no allowed hosts and derived limits", cfg.Server)
	}
	want := Chat{MaxRooms: 20, MessagesPerMinute: 20, MessagesPerMinutePerAddress: 60, MaxStorage: 32 * MB}
	if !reflect.DeepEqual(cfg.Chat, want) {
		t.Errorf("chat = %+v, want %+v", cfg.Chat, want)
	}
}

func TestParse_ServerAndChatErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "allowed host with scheme",
			src:  "server:\n  allowed_hosts: [\"https://dash.example.org/x\"]\n",
			want: []string{`c.yaml:2:19: server.allowed_hosts[0]: "https://dash.example.org/x" has a scheme: write the host name alone, e.g. "dash.example.org"`},
		},
		{
			name: "allowed host with port",
			src:  "server:\n  allowed_hosts:\n    - dash.example.org:8443\n",
			want: []string{`c.yaml:3:7: server.allowed_hosts[0]: "dash.example.org:8443" has a port (8443): write "dash.example.org"; the Host header is accepted on any port`},
		},
		{
			name: "lone wildcard, inner wildcard, bad name, empty",
			src:  "server:\n  allowed_hosts: ['*', 'a.*.org', 'bad name', '', x/y]\n",
			want: []string{
				`c.yaml:2:19: server.allowed_hosts[0]: a lone * would accept any Host header and turn the DNS-rebinding guard off: list the names, or a wildcard such as *.example.org`,
				`c.yaml:2:24: server.allowed_hosts[1]: "a.*.org": a wildcard must be the whole first label, e.g. *.example.org`,
				`c.yaml:2:35: server.allowed_hosts[2]: "bad name" is not a host name (labels of letters, digits, '-' and '_', separated by dots)`,
				`c.yaml:2:47: server.allowed_hosts[3]: must not be empty`,
				`c.yaml:2:51: server.allowed_hosts[4]: "x/y" has a path: write the host name alone`,
			},
		},
		{
			name: "negative and huge limits",
			src:  "server:\n  limits:\n    max_connections: -1\n    max_streams: 2000000\n",
			want: []string{
				`c.yaml:3:22: server.limits.max_connections: must be between 0 (derived from the open-file limit) and 1048576, got -1`,
				`c.yaml:4:18: server.limits.max_streams: must be between 0 (derived from the open-file limit) and 1048576, got 2000000`,
			},
		},
		{
			name: "per-address above total, streams above connections",
			src: "server:\n  limits:\n    max_connections: 100\n    max_connections_per_address: 200\n" +
				"    max_streams: 150\n    max_streams_per_address: 300\n",
			want: []string{
				`c.yaml:4:34: server.limits.max_connections_per_address: must not exceed max_connections (100): one address cannot use more than all connections; got 200`,
				`c.yaml:5:18: server.limits.max_streams: must not exceed max_connections (100): every stream holds a connection; got 150`,
				`c.yaml:6:30: server.limits.max_streams_per_address: must not exceed max_streams (150): one address cannot hold more than all streams; got 300`,
				`c.yaml:6:30: server.limits.max_streams_per_address: must not exceed max_connections_per_address (200): every stream holds a connection; got 300`,
			},
		},
		{
			name: "per-address alone is fine with a derived total",
			src:  "server:\n  limits:\n    max_streams_per_address: 300\n",
			want: nil,
		},
		{
			name: "bad, duplicate and too many rooms",
			src:  "chat:\n  rooms: [General, ok, ok, -x]\n  max_rooms: 1\n",
			want: []string{
				`c.yaml:2:11: chat.rooms[0]: "General": chat room names are 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit`,
				`c.yaml:2:24: chat.rooms[2]: duplicate room "ok" (first listed as rooms[1])`,
				`c.yaml:2:28: chat.rooms[3]: "-x": chat room names are 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit`,
				`c.yaml:3:14: chat.max_rooms: is 1 but rooms lists 4: raise it, or drop it (it only applies when rooms is empty)`,
			},
		},
		{
			name: "chat rates and rooms out of range",
			src:  "chat:\n  max_rooms: 0\n  messages_per_minute: 601\n  messages_per_minute_per_address: 0\n",
			want: []string{
				`c.yaml:2:14: chat.max_rooms: must be between 1 and 1000, got 0`,
				`c.yaml:3:24: chat.messages_per_minute: must be between 1 and 600, got 601`,
				`c.yaml:4:36: chat.messages_per_minute_per_address: must be between 1 and 6000, got 0`,
			},
		},
		{
			name: "storage too small",
			src:  "chat:\n  max_storage: 1000\n",
			want: []string{`c.yaml:2:16: chat.max_storage: must be between 64KB and 100GB, got 1KB`},
		},
		{
			name: "storage too large",
			src:  "chat:\n  max_storage: 2TB\n",
			want: []string{`c.yaml:2:16: chat.max_storage: must be between 64KB and 100GB, got 2TB`},
		},
		{
			name: "storage not a size",
			src:  "chat:\n  max_storage: 32 megs\n",
			want: []string{`c.yaml:2:16: chat.max_storage: invalid size "32 megs" (use e.g. 512KB, 32MB, 1GiB or a number of bytes)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parse(t, tt.src, nil)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestServer_HostAllowed(t *testing.T) {
	s := Server{AllowedHosts: []string{"dash.example.org", "*.example.net"}}
	tests := []struct {
		host string
		want bool
	}{
		{"dash.example.org", true},
		{"DASH.example.org:8443", true},
		{"dash.example.org.", true},
		{"a.example.net", true},
		{"a.b.example.net:80", true},
		{"example.net", false},
		{"evil-example.net", false},
		{"dash.example.org.evil.test", false},
		{"other.example.org", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := s.HostAllowed(tt.host); got != tt.want {
			t.Errorf("HostAllowed(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestChat_Rooms(t *testing.T) {
	for name, want := range map[string]bool{
		"general": true, "a": true, "0ps": true, "on_call-2": true, strings.Repeat("a", 32): true,
		"": false, "General": false, "-x": false, "_x": false, "a b": false, "a/b": false, strings.Repeat("a", 33): false,
	} {
		if got := ValidChatRoom(name); got != want {
			t.Errorf("ValidChatRoom(%q) = %v, want %v", name, got, want)
		}
	}
	open, closed := Chat{}, Chat{Rooms: []string{"general"}}
	if !open.AllowsRoom("random") || open.AllowsRoom("Bad") {
		t.Error("without rooms, any valid name is allowed and only those")
	}
	if !closed.AllowsRoom("general") || closed.AllowsRoom("random") {
		t.Error("with rooms, only the listed ones are allowed")
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"512KB", 512_000, true},
		{"32MB", 32_000_000, true},
		{"32 MB", 32_000_000, true},
		{"32mb", 32_000_000, true},
		{"1GiB", 1 << 30, true},
		{"64KiB", 64 << 10, true},
		{"2TB", 2_000_000_000_000, true},
		{"1048576", 1 << 20, true},
		{"100B", 100, true},
		{"0", 0, true},
		{"1.5GB", 0, false},
		{"-1MB", 0, false},
		{"MB", 0, false},
		{"10XB", 0, false},
		{"", 0, false},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9999999999999999999", 0, false},
		{"9000000TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestByteSize_String(t *testing.T) {
	for b, want := range map[ByteSize]string{
		0: "0B", 1500: "1500B", 32 * MB: "32MB", GiB: "1GiB", 64 * KB: "64KB", 100 * GB: "100GB",
		1024000: "1000KiB", 3 * TiB: "3TiB",
	} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(b), got, want)
		}
		if b > 0 {
			back, err := ParseByteSize(b.String())
			if err != nil || back != b {
				t.Errorf("ParseByteSize(%q) = %d, %v: does not round-trip", b.String(), back, err)
			}
		}
		if got := b.Bytes(); got != int64(b) {
			t.Errorf("Bytes() = %d", got)
		}
	}
}

// TestShippedConfig_ShowsDefaults: config.yaml says "the values shown are
// the defaults"; it must parse and hold exactly the defaults of the new keys.
func TestShippedConfig_ShowsDefaults(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("config.yaml", data, Options{CheckTypes: unionTypes, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if len(cfg.Chat.Rooms) == 0 {
		cfg.Chat.Rooms = nil // "rooms: []"
	}
	if !reflect.DeepEqual(cfg.Chat, def.Chat) {
		t.Errorf("chat = %+v, defaults %+v", cfg.Chat, def.Chat)
	}
	if cfg.Server.Limits != def.Server.Limits || len(cfg.Server.AllowedHosts) != 0 || cfg.Server.Listen != def.Server.Listen {
		t.Errorf("server = %+v, defaults %+v", cfg.Server, def.Server)
	}
	for _, key := range []string{"!secret", "allowed_hosts", "max_streams_per_address", "max_storage", "checks: []"} {
		if !strings.Contains(string(data), key) {
			t.Errorf("config.yaml does not document %s", key)
		}
	}
}
