package badge

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestShieldsJSON_Golden(t *testing.T) {
	tests := []struct {
		name  string
		badge Badge
		opts  ShieldsOptions
	}{
		{"state-up", StateBadge("web", model.StateUp), ShieldsOptions{}},
		{"uptime-for-the-badge", func() Badge { b := UptimeBadge("uptime 7d", 98.5); b.Style = StyleForTheBadge; return b }(), ShieldsOptions{}},
		{"latency-flat-square", func() Badge {
			b := LatencyBadge("latency", 1500*time.Millisecond, nil)
			b.Style = StyleFlatSquare
			return b
		}(), ShieldsOptions{}},
		{"no-label", Badge{Message: "not found"}, ShieldsOptions{}},
		{"hex-colors", Badge{Label: "a<b & \"c\"", Message: "ok", Color: "ABC", LabelColor: "#123456"}, ShieldsOptions{}},
		{"css-colors-plastic", Badge{Label: "env", Message: "prod", Color: "RebeccaPurple", LabelColor: "hsl(0 100% 50% / 50%)", Style: StylePlastic}, ShieldsOptions{}},
		{"social-cached", Badge{Label: "web", Message: "up", Color: "success", Style: StyleSocial}, ShieldsOptions{CacheSeconds: 600}},
		{"error", Badge{Label: "nope", Message: "not found", Color: ColorLightGrey}, ShieldsOptions{IsError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ShieldsJSONWith(tt.badge, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.name+".shields.json", got)

			// The schema: schemaVersion 1, label present (maybe empty),
			// non-empty message, and no keys shields would reject.
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("invalid JSON: %v", err)
			}
			if m["schemaVersion"] != float64(1) {
				t.Errorf("schemaVersion = %v", m["schemaVersion"])
			}
			if _, ok := m["label"].(string); !ok {
				t.Error("label missing")
			}
			if s, _ := m["message"].(string); s == "" {
				t.Error("message missing or empty")
			}
			allowed := map[string]bool{"schemaVersion": true, "label": true, "message": true, "color": true,
				"labelColor": true, "isError": true, "namedLogo": true, "logoSvg": true, "logoColor": true,
				"logoWidth": true, "logoPosition": true, "style": true, "cacheSeconds": true}
			for k := range m {
				if !allowed[k] {
					t.Errorf("key %q is not in the shields endpoint schema", k)
				}
			}
			if e, ok := m["isError"]; ok && e != true {
				t.Errorf("isError = %v: sent only when true", e)
			}
			if (m["isError"] == true) != tt.opts.IsError {
				t.Errorf("isError = %v, want %v", m["isError"], tt.opts.IsError)
			}
			if c, ok := m["cacheSeconds"]; ok || tt.opts.CacheSeconds > 0 {
				if c != float64(tt.opts.CacheSeconds) {
					t.Errorf("cacheSeconds = %v, want %d", c, tt.opts.CacheSeconds)
				}
			}
			for _, k := range []string{"color", "labelColor"} {
				if s, ok := m[k].(string); ok {
					if _, err := ResolveColor(s); err != nil {
						t.Errorf("%s %q does not read back: %v", k, s, err)
					}
				}
			}
			if s, ok := m["style"].(string); ok {
				if _, err := ParseStyle(s); err != nil {
					t.Errorf("style: %v", err)
				}
			}
		})
	}
}
