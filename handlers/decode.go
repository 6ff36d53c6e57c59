package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

// decodeJSON reads a JSON object body into dst. A body over the limit is
// ETOOLARGE; malformed JSON or a field of the wrong type is EINVALID naming
// the field, so a client developer sees what to fix.
func (s *Server) decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return chat.Errorf(chat.EINVALID, "The body must be JSON (Content-Type: application/json).")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, s.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return chat.Errorf(chat.ETOOLARGE, "The request body must be at most %d bytes.", s.opts.MaxBodyBytes)
	} else if err != nil {
		return chat.Errorf(chat.EINVALID, "The request body was cut short.")
	}
	// encoding/json would turn invalid bytes into U+FFFD and store a
	// string the client never sent: the contract refuses them instead.
	if !utf8.Valid(raw) {
		return errNotUTF8("The request body")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return chat.Errorf(chat.EINVALID, "Field %q has the wrong type.", typeErr.Field)
		case errors.Is(err, io.EOF):
			return chat.Errorf(chat.EINVALID, "The request body must be a JSON object.")
		default:
			return chat.Errorf(chat.EINVALID, "The request body is not valid JSON.")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return chat.Errorf(chat.EINVALID, "The request body must hold one JSON object.")
	}
	return nil
}

// queryInt reads an optional integer query parameter; absent is 0.
func queryInt(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n == 0 {
		return 0, chat.Errorf(chat.EINVALID, "%s must be a positive whole number.", name)
	}
	return n, nil
}

// pathID reads and checks an id from the path.
func pathID(c echo.Context, name, kind string) (string, error) {
	id := c.Param(name)
	if err := chat.ValidateID(kind, id); err != nil {
		return "", err
	}
	return id, nil
}
