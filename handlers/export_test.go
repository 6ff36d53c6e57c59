package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/labstack/echo/v4"
)

// The decoders of client input are unexported: the handlers are their only
// callers. These let the external fuzz tests drive them.

// ParseArgs is parseArgs without the ack.
func ParseArgs(args []any) (string, error) {
	id, _, err := parseArgs(args)
	return id, err
}

// DecodeJSON runs decodeJSON on body with a bound of limit bytes.
func DecodeJSON(body []byte, limit int64, dst any) error {
	s := &Server{opts: Options{MaxBodyBytes: limit}}
	req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return s.decodeJSON(c, dst)
}

// ErrorStatus is the status errorPayload gives err for a request whose
// context is ctx, and whether it logged an internal error.
func ErrorStatus(ctx context.Context, err error) (status int, logged bool) {
	var buf bytes.Buffer
	status, _ = errorPayload(ctx, slog.New(slog.NewJSONHandler(&buf, nil)), err)
	return status, buf.Len() > 0
}

// ErrorResponse is the response httpError writes for err.
func ErrorResponse(err error) *httptest.ResponseRecorder {
	s := &Server{log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
	rec := httptest.NewRecorder()
	s.httpError(err, echo.New().NewContext(httptest.NewRequest("POST", "/", nil), rec))
	return rec
}

// Outbox is a socket's pending-output measure, driven with packet sizes.
type Outbox struct{ o *outbox }

// NewOutbox returns the measure of a new socket.
func NewOutbox() Outbox { return Outbox{newOutbox()} }

func sizedPacket(n int) *packet.Packet {
	return &packet.Packet{Data: types.NewStringBufferString(strings.Repeat("x", n))}
}

// Created counts a packet of n bytes the engine buffers.
func (b Outbox) Created(n int) { b.o.created(sizedPacket(n)) }

// Flushed hands a batch of packets of these sizes to the transport.
func (b Outbox) Flushed(sizes ...int) {
	batch := make([]*packet.Packet, len(sizes))
	for i, n := range sizes {
		batch[i] = sizedPacket(n)
	}
	b.o.flushed(batch)
}

// Overdue is overdue.
func (b Outbox) Overdue(now time.Time, writable bool) string { return b.o.overdue(now, writable) }
