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
	}{
		{"state-up", StateBadge("web", model.StateUp)},
		{"uptime-for-the-badge", func() Badge { b := UptimeBadge("uptime 7d", 98.5); b.Style = StyleForTheBadge; return b }()},
		{"latency-flat-square", func() Badge {
			b := LatencyBadge("latency", 1500*time.Millisecond, nil)
			b.Style = StyleFlatSquare
			return b
		}()},
		{"no-label", Badge{Message: "not found"}},
		{"hex-colors", Badge{Label: "a<b & \"c\"", Message: "ok", Color: "ABC", LabelColor: "#123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ShieldsJSON(tt.badge)
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
			if s, ok := m["style"].(string); ok {
				if _, err := ParseStyle(s); err != nil {
					t.Errorf("style: %v", err)
				}
			}
		})
	}
}
