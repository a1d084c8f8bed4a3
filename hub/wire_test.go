package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/internal/golden"
)

// TestEncode_Golden pins the exact bytes of every event kind for the beta.11
// client. The browser test proves the client accepts bytes of this shape.
func TestEncode_Golden(t *testing.T) {
	comp := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<span id="clock">12:00</span>`)
		return err
	})
	tests := []struct {
		name   string
		events []Event
	}{
		{"patch_elements_default", []Event{PatchElements(`<div id="a">hello</div>`)}},
		{"patch_elements_multiline", []Event{PatchElements("<ul id=\"l\">\r\n  <li>1</li>\n  <li>2</li>\r</ul>\n")}},
		{"patch_elements_options", []Event{PatchElements(`<li>x</li>`,
			WithSelector("#list"), WithMergeMode(ModeAppend), WithViewTransition())}},
		{"patch_elements_modes", []Event{
			PatchElements(`<b>m</b>`, WithSelector("#m"), WithMergeMode(ModeMorph)),
			PatchElements(`<b>i</b>`, WithSelector("#i"), WithMergeMode(ModeInner)),
			PatchElements(`<b>o</b>`, WithSelector("#o"), WithMergeMode(ModeOuter)),
			PatchElements(`<b>p</b>`, WithSelector("#p"), WithMergeMode(ModePrepend)),
			PatchElements(`<b>a</b>`, WithSelector("#a"), WithMergeMode(ModeAppend)),
			PatchElements(`<b>b</b>`, WithSelector("#b"), WithMergeMode(ModeBefore)),
			PatchElements(`<b>f</b>`, WithSelector("#f"), WithMergeMode(ModeAfter)),
			PatchElements(`<b class="u">u</b>`, WithSelector("#u"), WithMergeMode(ModeUpsertAttributes)),
		}},
		{"patch_component", []Event{PatchComponent(context.Background(), comp)}},
		{"patch_signals", []Event{PatchSignals(map[string]any{"message": "", "form": map[string]int{"count": 3}})}},
		{"patch_signals_only_if_missing", []Event{PatchSignals(struct {
			Open bool `json:"open"`
		}{true}, WithOnlyIfMissing())}},
		{"patch_signals_raw", []Event{PatchSignals(json.RawMessage("{\n  \"a\": 1,\n  \"b\": \"x\\ny\"\n}"))}},
		{"remove_elements", []Event{RemoveElements("#toast-3", WithViewTransition())}},
		{"remove_signals", []Event{RemoveSignals("form.name", "form.email")}},
		{"execute_script", []Event{ExecuteScript("console.log('a');\nconsole.log('b')")}},
		{"execute_script_options", []Event{ExecuteScript("window.x = 1", WithKeepScript(),
			WithScriptAttribute("type", "text/javascript"), WithScriptAttribute("nonce", "abc"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.events...)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			golden.Assert(t, tt.name+".golden", got)
		})
	}
}

func TestEncode_Errors(t *testing.T) {
	broken := templ.ComponentFunc(func(context.Context, io.Writer) error { return errors.New("boom") })
	tests := []struct {
		name string
		ev   Event
		want error
	}{
		{"zero event", Event{}, ErrEmptyEvent},
		{"remove elements without selector", RemoveElements(""), ErrEmptySelector},
		{"remove signals without paths", RemoveSignals(), ErrNoPaths},
		{"empty script", ExecuteScript("  "), ErrEmptyScript},
		{"unmarshallable signals", PatchSignals(func() {}), nil},
		{"invalid raw signals", PatchSignals(json.RawMessage(`{"a":`)), nil},
		{"component fails", PatchComponent(context.Background(), broken), nil},
		{"unknown merge mode", PatchElements("<p></p>", WithMergeMode(MergeMode(99))), errUnknownMergeMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := PatchSignals(map[string]int{"ok": 1})
			got, err := Encode(tt.ev, good)
			if err == nil {
				t.Fatal("Encode: want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			// The good event still goes out.
			want, _ := Encode(good)
			if !bytes.Equal(got, want) {
				t.Errorf("got %q, want only the good event %q", got, want)
			}
		})
	}
}
