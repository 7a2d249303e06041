package bearerfiber3_test

import (
	"log"

	"github.com/gofiber/fiber/v3"

	"github.com/bouncer-go/bouncer/adapters/bearerfiber3"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func Example() {
	v, err := bearer.New(bearer.Config{
		Issuer:    "https://sso.example.com/realms/services",
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := bearerfiber3.New(v)

	// Room for a token of up to bearer.Config.MaxTokenBytes (16 KiB) and
	// the other headers; Fiber's default of 4 KiB answers 431 to long tokens.
	app := fiber.New(fiber.Config{ReadBufferSize: 32 << 10})
	app.Get("/country/code/:code", auth.RequireScope("country.read"), func(c fiber.Ctx) error {
		claims, _ := bearerfiber3.Claims(c)
		return c.SendString("hello " + claims.ClientID + "\n")
	})
	_ = app.Listen(":8091")
}
