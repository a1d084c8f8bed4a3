// Package ui holds dashd's templ components, its embedded static assets and the
// view models the components render. It knows nothing of fiber handlers beyond
// serving assets; the server package wires routes to components.
package ui

// Page carries what every full page needs besides its own content.
type Page struct {
	Title    string
	Version  string
	Hostname string
	Assets   *Assets
}
