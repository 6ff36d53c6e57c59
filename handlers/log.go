package handlers

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns a JSON logger in Cloud Logging's structured shape:
// `severity` and `message` instead of slog's `level` and `msg`, and the
// request's trace (from X-Cloud-Trace-Context) as
// `logging.googleapis.com/trace` so lines group under their request.
func NewLogger(w io.Writer, projectID string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.LevelKey:
				a.Key = "severity"
				if lvl, ok := a.Value.Any().(slog.Level); ok && lvl == slog.LevelWarn {
					a.Value = slog.StringValue("WARNING")
				}
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	})
	return slog.New(traceHandler{Handler: h, project: projectID})
}

type traceKey struct{}

// withTrace stores the trace id of an X-Cloud-Trace-Context header
// ("TRACE_ID/SPAN_ID;o=1") in ctx.
func withTrace(ctx context.Context, header string) context.Context {
	trace, _, _ := strings.Cut(header, "/")
	if trace == "" || len(trace) > 64 {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, trace)
}

// traceHandler adds the trace of the record's context.
type traceHandler struct {
	slog.Handler
	project string
}

// Handle adds the trace of ctx, if any, to the record.
func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if trace, ok := ctx.Value(traceKey{}).(string); ok {
		r.AddAttrs(slog.String("logging.googleapis.com/trace", "projects/"+h.project+"/traces/"+trace))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the trace handling on derived loggers.
func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{Handler: h.Handler.WithAttrs(as), project: h.project}
}

// WithGroup keeps the trace handling on derived loggers.
func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{Handler: h.Handler.WithGroup(name), project: h.project}
}
