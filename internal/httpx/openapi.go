package httpx

import "github.com/gofiber/fiber/v2"

// ServeOpenAPI answers a service's OpenAPI document (YAML), which is public:
// it tells a client how to call the API, not anything the API guards.
func ServeOpenAPI(doc []byte) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml")
		return c.Send(doc)
	}
}
