// Package chat is the domain of the ChatApp backend: its types, the services
// the adapters implement and the one error type every layer speaks.
//
// It imports only the standard library, so every other package can depend on
// it and it depends on none of them.
package chat

import (
	"errors"
	"fmt"
)

// Error codes are the stable words of the external contract. Clients switch
// on them, so they never change once published.
const (
	EINVALID      = "invalid_argument"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	ETOOLARGE     = "too_large"
	ERATELIMITED  = "rate_limited"
	EINTERNAL     = "internal"
)

// Error is the one error type that crosses package boundaries. Message is a
// sentence a user may read; anything that is not an *Error is reported as
// EINTERNAL with a generic message and logged at the edge.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("chat error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted, user-readable message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for anything that is not an
// *Error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Unknown errors never
// leak their text: it may hold storage details.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
