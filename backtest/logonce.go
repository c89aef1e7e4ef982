package backtest

import (
	"context"
	"log/slog"
	"sync"
)

// onceHandler passes each message on once: what the engine warns about in
// every window (little history before it, say) is said once per backtest,
// not once per window.
type onceHandler struct {
	slog.Handler
	seen *sync.Map
}

func logOnce(log *slog.Logger) *slog.Logger {
	return slog.New(onceHandler{Handler: log.Handler(), seen: &sync.Map{}})
}

// Handle implements slog.Handler.
func (h onceHandler) Handle(ctx context.Context, r slog.Record) error {
	if _, said := h.seen.LoadOrStore(r.Message, true); said {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h onceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return onceHandler{Handler: h.Handler.WithAttrs(as), seen: h.seen}
}

// WithGroup implements slog.Handler.
func (h onceHandler) WithGroup(name string) slog.Handler {
	return onceHandler{Handler: h.Handler.WithGroup(name), seen: h.seen}
}
