package badge

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

// goldenKinds are the badges every style is rendered for.
var goldenKinds = []struct {
	name  string
	badge Badge
}{
	{"state-up", StateBadge("web", model.StateUp)},
	{"state-down", StateBadge("web", model.StateDown)},
	{"state-degraded", StateBadge("db", model.StateDegraded)},
	{"uptime", UptimeBadge("uptime 30d", 99.95)},
	{"latency", LatencyBadge("latency", 312*time.Millisecond, nil)},
	{"long-label", StateBadge("api-gateway.production.eu-west-1 (primary)", model.StateUp)},
	{"escape", Badge{Label: `a<b & "c" 'd'>`, Message: `<&">`, Color: "blue"}},
	{"no-label", Badge{Message: "not found", Color: "lightgrey"}},
	{"light-colors", Badge{Label: "env", Message: "staging", Color: "#ffd", LabelColor: "eeeeee"}},
	{"unicode", Badge{Label: "Zürich → café", Message: "✓ ΟΚ 東京", Color: "green"}},
}

var styles = []Style{StyleFlat, StyleFlatSquare, StyleForTheBadge, StylePlastic, StyleSocial}

func TestRender_Golden(t *testing.T) {
	for _, k := range goldenKinds {
		for _, st := range styles {
			name := k.name + "." + st.String()
			t.Run(name, func(t *testing.T) {
				b := k.badge
				b.Style = st
				got, err := Render(b)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				golden.Assert(t, name+".svg", got)
			})
		}
	}
}

// svgDoc is what the well-formedness check pulls out of a badge.
type svgDoc struct {
	width, height float64
	ariaLabel     string
	title         string
	texts         []string // character data of every <text>, in order
}

// parseSVG decodes a whole document with encoding/xml, failing on any
// well-formedness error.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var doc svgDoc
	var stack []string
	var text strings.Builder
	roots := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root is %v, want svg in the SVG namespace", tok.Name)
				}
				for _, a := range tok.Attr {
					var err error
					switch a.Name.Local {
					case "width":
						doc.width, err = strconv.ParseFloat(a.Value, 64)
					case "height":
						doc.height, err = strconv.ParseFloat(a.Value, 64)
					case "aria-label":
						doc.ariaLabel = a.Value
					}
					if err != nil {
						t.Fatalf("attribute %s: %v", a.Name.Local, err)
					}
				}
			}
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch tok.Name.Local {
			case "title":
				doc.title = text.String()
			case "text":
				doc.texts = append(doc.texts, text.String())
			}
			stack = stack[:len(stack)-1]
		}
	}
	if roots != 1 || len(stack) != 0 {
		t.Fatalf("want exactly one closed root element, got %d roots, %d open", roots, len(stack))
	}
	return doc
}

// TestGolden_WellFormed parses every golden SVG on disk, so a hand-edited or
// stale golden cannot hide broken XML.
func TestGolden_WellFormed(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(goldenKinds) * len(styles); len(paths) < want {
		t.Fatalf("found %d golden SVGs, want at least %d", len(paths), want)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, data)
			if doc.width <= 0 || (doc.height != 18 && doc.height != 20 && doc.height != 28) {
				t.Errorf("size %vx%v", doc.width, doc.height)
			}
			if doc.title == "" || doc.title != doc.ariaLabel {
				t.Errorf("title %q and aria-label %q must match and not be empty", doc.title, doc.ariaLabel)
			}
		})
	}
}

func TestRender_Escaping(t *testing.T) {
	tests := []struct {
		name           string
		badge          Badge
		wantAccessible string
		wantTexts      []string
	}{
		{
			name:           "markup characters",
			badge:          Badge{Label: `a<b & "c" 'd'>`, Message: `<&">`},
			wantAccessible: `a<b & "c" 'd'>: <&">`,
			wantTexts:      []string{`a<b & "c" 'd'>`, `a<b & "c" 'd'>`, `<&">`, `<&">`},
		},
		{
			name:           "control characters and invalid UTF-8",
			badge:          Badge{Label: "line\none\x00\x1b", Message: "ok\xff\ufffe"},
			wantAccessible: "line one: ok\ufffd",
			wantTexts:      []string{"line one", "line one", "ok\ufffd", "ok\ufffd"},
		},
		{
			name:           "entity-looking text stays literal",
			badge:          Badge{Label: "&amp;", Message: "]]>"},
			wantAccessible: "&amp;: ]]>",
			wantTexts:      []string{"&amp;", "&amp;", "]]>", "]]>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := Render(tt.badge)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, svg)
			if doc.title != tt.wantAccessible || doc.ariaLabel != tt.wantAccessible {
				t.Errorf("title %q, aria-label %q, want %q", doc.title, doc.ariaLabel, tt.wantAccessible)
			}
			if strings.Join(doc.texts, "|") != strings.Join(tt.wantTexts, "|") {
				t.Errorf("texts %q, want %q", doc.texts, tt.wantTexts)
			}
		})
	}
}

func TestRender_Errors(t *testing.T) {
	tests := []struct {
		name  string
		badge Badge
		want  error
	}{
		{"empty message", Badge{Label: "x"}, ErrEmptyMessage},
		{"blank message", Badge{Label: "x", Message: " \n"}, ErrEmptyMessage},
		{"bad colour", Badge{Message: "x", Color: "chartreuse-ish"}, ErrInvalidColor},
		{"bad hex", Badge{Message: "x", Color: "#12345"}, ErrInvalidColor},
		{"bad label colour", Badge{Message: "x", LabelColor: "#ggg"}, ErrInvalidColor},
		{"bad style", Badge{Message: "x", Style: Style(9)}, ErrUnknownStyle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendSVG(dst, tt.badge)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AppendSVG error %v, want %v", err, tt.want)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed on error: %q", out)
			}
			if _, err := ShieldsJSON(tt.badge); !errors.Is(err, tt.want) {
				t.Errorf("ShieldsJSON error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseStyle(t *testing.T) {
	tests := []struct {
		in      string
		want    Style
		wantErr bool
	}{
		{"", StyleFlat, false},
		{"flat", StyleFlat, false},
		{"flat-square", StyleFlatSquare, false},
		{"for-the-badge", StyleForTheBadge, false},
		{"plastic", StylePlastic, false},
		{"social", StyleSocial, false},
		{"FLAT", 0, true},
		{"popout", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStyle(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownStyle) || !strings.Contains(err.Error(), strconv.Quote(tt.in)) ||
					!strings.Contains(err.Error(), "flat, flat-square, for-the-badge, plastic or social") {
					t.Fatalf("error %v: want ErrUnknownStyle naming the value and the choices", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseStyle(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if tt.in != "" && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
			var u Style
			if err := u.UnmarshalText([]byte(tt.in)); err != nil || u != tt.want {
				t.Errorf("UnmarshalText = %v, %v", u, err)
			}
		})
	}
}

// renderWidth renders b and returns the width attribute.
func renderWidth(t *testing.T, b Badge) float64 {
	t.Helper()
	svg, err := Render(b)
	if err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, svg).width
}

func TestRender_WidthFollowsLabel(t *testing.T) {
	const short, long = "web", "api-gateway.production.eu-west-1 (primary)"
	for _, st := range styles {
		t.Run(st.String(), func(t *testing.T) {
			ws := renderWidth(t, Badge{Label: short, Message: "up", Style: st})
			wl := renderWidth(t, Badge{Label: long, Message: "up", Style: st})
			var want float64
			switch st {
			case StyleForTheBadge:
				want = spacedWidth(strings.ToUpper(long), regular) - spacedWidth(strings.ToUpper(short), regular)
			case StyleSocial:
				want = float64(bold.preferredWidth(capitalize(long)) - bold.preferredWidth(capitalize(short)))
			default:
				want = float64(preferredWidth(long) - preferredWidth(short))
			}
			if wl-ws != want {
				t.Errorf("long label is %v px wider, want the measured difference %v", wl-ws, want)
			}
			if wl-ws < 150 {
				t.Errorf("long label only %v px wider: measurement looks broken", wl-ws)
			}
			narrow := renderWidth(t, Badge{Label: "iiii", Message: "up", Style: st})
			wide := renderWidth(t, Badge{Label: "WWWW", Message: "up", Style: st})
			if !(narrow < wide-20) {
				t.Errorf(`"iiii" badge %v px, "WWWW" badge %v px: want iiii clearly narrower`, narrow, wide)
			}
			noLabel := renderWidth(t, Badge{Message: "up", Style: st})
			if !(noLabel < ws) {
				t.Errorf("badge without label %v px, with label %v px", noLabel, ws)
			}
		})
	}
}

// TestRender_KnownWidths pins whole-badge widths worked out by hand from the
// DejaVu Sans advances (font units per 2048 em): a regression in the table,
// the lookup or the layout arithmetic shows up here.
func TestRender_KnownWidths(t *testing.T) {
	tests := []struct {
		name  string
		badge Badge
		want  float64
	}{
		// build = b1300+u1298+i569+l569+d1300 = 5036 -> 27.05 px -> 27 (odd);
		// passing = p1300+a1255+s1067*2+i569+n1298+g1300 = 7856 -> 42.2 -> 43;
		// (27+10)+(43+10) = 90.
		{"flat build passing", Badge{Label: "build", Message: "passing"}, 90},
		{"flat-square build passing", Badge{Label: "build", Message: "passing", Style: StyleFlatSquare}, 90},
		// Regular BUILD = 6226 units -> 30.4 px at 10 px -> 30 + 5*1.25 = 36.25;
		// bold PASSING = 10193 -> 49.77 -> 49 + 7*1.25 = 57.75;
		// 12+36.25+12 + 12+57.75+12 = 142.
		{"for-the-badge build passing", Badge{Label: "build", Message: "passing", Style: StyleForTheBadge}, 142},
		// Plastic has flat's horizontal layout.
		{"plastic build passing", Badge{Label: "build", Message: "passing", Style: StylePlastic}, 90},
		// Social measures bold: Build = B1561+u1458+i702+l702+d1466 = 5889
		// -> 31.6 px -> 31; passing = p1466+a1382+s1219*2+i702+n1458+g1466 =
		// 8912 -> 47.9 -> 47; label box 31+2*5 = 41, bubble 47+2*4 = 55;
		// 41 + 1 + 6 (gutter) + 55 = 103.
		{"social build passing", Badge{Label: "build", Message: "passing", Style: StyleSocial}, 103},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderWidth(t, tt.badge); got != tt.want {
				t.Errorf("width %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRender_StyleDetails checks what each new style must draw beyond its
// size: plastic's height and gradient, social's capital, bubble and
// disregard of colours (as on shields.io).
func TestRender_StyleDetails(t *testing.T) {
	tests := []struct {
		name      string
		badge     Badge
		height    float64
		texts     []string // the visible runs and their shadows, in order
		title     string
		contains  []string
		forbidden []string
	}{
		{
			name:   "plastic",
			badge:  Badge{Label: "web", Message: "up", Color: "red", Style: StylePlastic},
			height: 18,
			texts:  []string{"web", "web", "up", "up"},
			title:  "web: up",
			contains: []string{`<stop offset=".9" stop-color="#000" stop-opacity=".3"/>`, `rx="4"`, `fill="#e05d44"`,
				`y="130" transform="scale(.1)" fill="#fff"`, `aria-hidden="true" x="175" y="140"`, `fill="url(#sp)"`},
			forbidden: []string{`id="s"`, `rx="3"`},
		},
		{
			name:     "social capitalises the label but not the accessible name",
			badge:    Badge{Label: "stars", Message: "1.2k", Color: "red", LabelColor: "blue", Style: StyleSocial},
			height:   20,
			texts:    []string{"Stars", "Stars", "1.2k", "1.2k"},
			title:    "stars: 1.2k",
			contains: []string{`font-weight="700"`, `l-3 3v1 l3 3`, `fill="#fafafa"`, `stroke="#d5d5d5"`, `fill="url(#so)"`},
			// Colours are ignored, as shields.io ignores them for social.
			forbidden: []string{"#e05d44", "#007ec6"},
		},
		{
			name:   "social without label keeps an empty label box",
			badge:  Badge{Message: "ok", Style: StyleSocial},
			height: 20,
			texts:  []string{"ok", "ok"},
			title:  "ok",
			// 1 (odd empty width) + 2*5 = 11.
			contains: []string{`<rect stroke="none" fill="#fcfcfc" x=".5" y=".5" width="11" height="19" rx="2"/>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := Render(tt.badge)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, svg)
			if doc.height != tt.height {
				t.Errorf("height %v, want %v", doc.height, tt.height)
			}
			if strings.Join(doc.texts, "|") != strings.Join(tt.texts, "|") {
				t.Errorf("texts %q, want %q", doc.texts, tt.texts)
			}
			if doc.title != tt.title || doc.ariaLabel != tt.title {
				t.Errorf("title %q aria-label %q, want %q", doc.title, doc.ariaLabel, tt.title)
			}
			for _, s := range tt.contains {
				if !strings.Contains(string(svg), s) {
					t.Errorf("lacks %s:\n%s", s, svg)
				}
			}
			for _, s := range tt.forbidden {
				if strings.Contains(string(svg), s) {
					t.Errorf("has %s:\n%s", s, svg)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	for _, st := range styles {
		badge := StateBadge("api-gateway", model.StateUp)
		badge.Style = st
		b.Run(st.String(), func(b *testing.B) {
			b.ReportAllocs()
			var out []byte // kept past the loop so the result must escape
			for b.Loop() {
				var err error
				if out, err = Render(badge); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(out)))
		})
	}
	b.Run("append-reuse", func(b *testing.B) {
		badge := UptimeBadge("uptime 30d", 99.95)
		buf := make([]byte, 0, 2048)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = AppendSVG(buf[:0], badge); err != nil {
				b.Fatal(err)
			}
		}
	})
}
