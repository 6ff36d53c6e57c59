package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/chatapp/chat"
)

// statusOf is the one table from domain error codes to HTTP statuses;
// Socket.IO error acks carry the same codes.
var statusOf = map[string]int{
	chat.EINVALID:      http.StatusBadRequest,
	chat.EUNAUTHORIZED: http.StatusUnauthorized,
	chat.EFORBIDDEN:    http.StatusForbidden,
	chat.ENOTFOUND:     http.StatusNotFound,
	chat.ECONFLICT:     http.StatusConflict,
	chat.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	chat.ERATELIMITED:  http.StatusTooManyRequests,
	chat.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the contract's Error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorPayload returns the status and body for err, logging what is not a
// domain error: the user sees only that something went wrong, the operator
// sees why.
func errorPayload(ctx context.Context, log *slog.Logger, err error) (int, errorBody) {
	if errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled) {
		// The client went away; nobody reads the answer. (The storage
		// adapter's error may not say so: a call the client library saw
		// cancelled comes back as an internal error, and was logged as
		// one for every send a client gave up on under load.)
		return 499, errorBody{errorDetail{chat.EINTERNAL, "The request was cancelled."}}
	}
	code := chat.ErrorCode(err)
	if code == chat.EINTERNAL {
		log.ErrorContext(ctx, "internal error", "err", err.Error())
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, errorBody{errorDetail{code, chat.ErrorMessage(err)}}
}
