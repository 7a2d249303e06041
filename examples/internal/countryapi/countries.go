package countryapi

import "strings"

// LookupCountryTool is the MCP tool of examples/mcp that looks a country
// up by its code, as GET /country/code/{code} does.
const LookupCountryTool = "lookup_country"

// Country is the answer of GET /country/code/{code}.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// countries is a small built-in table keyed by ISO 3166-1 alpha-3 code: the
// examples are about protecting an API, not about its data.
var countries = map[string]string{
	"ARG": "ARGENTINA",
	"AUS": "AUSTRALIA",
	"BRA": "BRAZIL",
	"CAN": "CANADA",
	"CHN": "CHINA",
	"DEU": "GERMANY",
	"FRA": "FRANCE",
	"GBR": "UNITED KINGDOM",
	"IND": "INDIA",
	"JPN": "JAPAN",
	"NZL": "NEW ZEALAND",
	"USA": "UNITED STATES",
	"ZAF": "SOUTH AFRICA",
}

// Lookup finds a country by its alpha-3 code, in any letter case.
func Lookup(code string) (Country, bool) {
	if len(code) != 3 {
		return Country{}, false
	}
	code = strings.ToUpper(code)
	name, ok := countries[code]
	if !ok {
		return Country{}, false
	}
	return Country{Code: code, Name: name}, true
}
