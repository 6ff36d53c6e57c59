package handlers

import (
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

// errNotUTF8 refuses a request that carries a string that is not valid
// UTF-8. Firestore refuses such a string with a non-retryable error, and a
// send's commit is shared with other members' sends: one bad value must be
// stopped at the edge, before any work, not discovered in a batch.
func errNotUTF8(what string) error {
	return chat.Errorf(chat.EINVALID, "%s must be valid UTF-8.", what)
}

// requireUTF8 checks the strings every request carries, its path and its
// query parameters (both as decoded from their %-escapes), before routing
// work to a handler. Bodies are checked where they are read (decodeJSON,
// readField) and socket arguments where they are parsed (parseArgs).
func requireUTF8(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if !utf8.ValidString(u.Path) {
			return errNotUTF8("The path")
		}
		for name, values := range u.Query() {
			if !utf8.ValidString(name) {
				return errNotUTF8("A query parameter's name")
			}
			for _, v := range values {
				if !utf8.ValidString(v) {
					return errNotUTF8("Query parameter " + name)
				}
			}
		}
		return next(c)
	}
}
