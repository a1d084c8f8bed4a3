// Package badge renders status badges in the look of shields.io as SVG, with no
// external font or service, and the shields.io endpoint-badge JSON for people
// who render through shields.
//
// # Layout
//
// The geometry follows shields.io's badge-maker for all five of its styles:
// 20 px high flat and flat-square badges with 5 px padding around 11 px text;
// plastic, the same boxes 18 px high with 4 px corners and a glossy gradient;
// 28 px high for-the-badge badges with 12 px margins around 10 px upper-case
// text spaced by 1.25 px per character (label regular, message bold); and
// social, a capitalised bold label in an outlined 19 px box with the bold
// message in a speech bubble 6 px to its right (colours are ignored, as
// shields.io ignores them for this style). Text is
// drawn at ten times the size and scaled down, and every run carries
// textLength, so whatever font the viewer has is stretched to the measured
// width and the text always fits its box.
//
// # Metrics
//
// shields.io measures with Verdana, which may not be redistributed. This
// package measures with DejaVu Sans (a Bitstream Vera derivative, close to
// Verdana) and names it first in font-family so viewers that have it draw
// exactly what was measured. The advance widths live in widths_gen.go,
// generated from the TrueType files by internal/gen (`go generate`), so
// building never needs the fonts; see NOTICE for the font licence. Code points
// outside the generated blocks are estimated: combining marks and format
// characters as zero, East Asian wide characters and emoji as one em, the rest
// as the average letter width.
//
// # Colours
//
// Colours are what shields.io accepts: its names (brightgreen, green,
// yellowgreen, yellow, orange, red, blue, grey, lightgrey and the shields
// aliases), 3- or 6-digit hex with or without "#", 4- or 8-digit hex with
// "#", CSS colour names, and rgb(), rgba(), hsl() and hsla(). Everything but
// shields names and plain hex is drawn as hex (or rgba() when translucent)
// written by this package. UptimeColor, StateColor and LatencyColor pick a
// colour from thresholds. Text is white on dark backgrounds and dark grey on
// light ones, by the same brightness rule as shields.io.
package badge

//go:generate go run ./internal/gen -out widths_gen.go
