package server

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI is the OpenAPI 3.1 description of every /api/v1 route,
// hand-written and embedded in the binary. openapi_test.go keeps it true:
// every route registered under /api/v1 is described, every described one
// exists, and real answers (errors too) validate against it.
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI serves GET /api/v1/openapi.json, under the API's own
// guard (public when "api" is in auth.public).
func (s *Server) handleOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPI)
}
