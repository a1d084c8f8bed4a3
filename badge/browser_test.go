package badge

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dashd/dashd/model"
)

// measureScript draws every badge's text a second time without textLength
// (and without kerning, which badge-maker's measurement also ignores) and
// returns the natural width the browser gives it next to the width the badge
// reserved.
const measureScript = `(() => {
  const out = [];
  document.querySelectorAll('svg text:not([aria-hidden])').forEach(t => {
    const c = t.cloneNode(true);
    c.removeAttribute('textLength');
    c.style.fontKerning = 'none';
    t.parentNode.appendChild(c);
    const natural = c.getComputedTextLength() / 10;
    c.remove();
    out.push({text: t.textContent, reserved: parseFloat(t.getAttribute('textLength')) / 10,
      natural: natural, spaced: t.closest('svg').getAttribute('height') === '28'});
  });
  return out;
})()`

// TestRender_BrowserMeasuresTheSame renders badges in headless Chromium with
// DejaVu Sans installed and checks the widths the tables predicted are the
// widths the browser draws, within badge-maker's rounding (truncate, then up
// to odd: less than 1 px either way).
func TestRender_BrowserMeasuresTheSame(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("SKIPPING browser width check: %s not installed (apt-get install -y chromium)", chromium)
	}
	const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	if _, err := os.Stat(font); err != nil {
		t.Skipf("SKIPPING browser width check: %s not installed (apt-get install -y fonts-dejavu-core), the browser would draw another font", font)
	}

	var page strings.Builder
	texts := []string{
		"web", "api-gateway.production.eu-west-1 (primary)", "iiii", "WWWW",
		"uptime 30d", "99.95%", "312 ms", `a<b & "c" 'd'>`, "Zürich → café",
		"Ωμέγα Привет ŁódźĦ", "[{(|)}]~#@$^*_+=/\\?!;:,.",
	}
	for _, st := range styles {
		for _, s := range texts {
			svg, err := Render(Badge{Label: s, Message: s, Color: StateColor(model.StateUp), Style: st})
			if err != nil {
				t.Fatal(err)
			}
			page.Write(svg)
		}
	}
	html, err := json.Marshal(page.String())
	if err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.body.innerHTML = `+string(html))); err != nil {
		t.Fatalf("load badges: %v", err)
	}
	type measured struct {
		Text     string  `json:"text"`
		Reserved float64 `json:"reserved"`
		Natural  float64 `json:"natural"`
		Spaced   bool    `json:"spaced"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]measured](measureScript))
	if err != nil {
		t.Fatalf("measure: %v", err)
	}
	if want := 2 * len(texts) * len(styles); len(got) != want {
		t.Fatalf("measured %d text runs, want %d", len(got), want)
	}
	worst := 0.0
	for _, m := range got {
		natural := m.Natural
		if m.Spaced {
			// for-the-badge reserves 1.25 px per character of letter spacing,
			// which textLength hands out as the gaps.
			natural += 1.25 * float64(len([]rune(m.Text)))
		}
		diff := m.Reserved - natural
		if math.Abs(diff) > math.Abs(worst) {
			worst = diff
		}
		if diff <= -1.01 || diff > 1.01 {
			t.Errorf("%q (spaced %v): badge reserves %.2f px, Chromium draws %.2f px", m.Text, m.Spaced, m.Reserved, natural)
		}
	}
	t.Logf("%d text runs; largest reserved-minus-drawn difference %.2f px", len(got), worst)
}
