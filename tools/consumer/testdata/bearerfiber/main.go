// Command countryapi is the quick start's API on Fiber v2.
package main

import (
	"log"
	"os"

	"github.com/gofiber/fiber/v2"

	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"),
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}

	auth := bearerfiber.New(v)
	app := fiber.New(fiber.Config{
		ReadBufferSize:        32 << 10, // see below
		DisableStartupMessage: true,
	})
	app.Get("/country/code/:code",
		auth.RequireScope("country.read"), h)

	log.Fatal(app.Listen(os.Getenv("ADDR")))
}

func h(c *fiber.Ctx) error {
	claims, _ := bearerfiber.Claims(c)
	return c.SendString("country " + c.Params("code") + ", for " + claims.ClientID + "\n")
}
