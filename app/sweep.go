package app

import (
	"context"
	"time"

	"github.com/chatapp/chat/firestore"
)

// Work cut off by a crash is finished by whichever instance sweeps first:
// at start, then every sweepEvery. Purges pending for sweepAfter are
// finished; so are quote refreshes pending for quotesAfter; uploads
// without a message for uploadsAfter (longer than any send may take) are
// deleted.
const (
	sweepEvery   = 10 * time.Minute
	sweepAfter   = 5 * time.Minute
	uploadsAfter = 30 * time.Minute
	quotesAfter  = time.Minute
)

func (a *App) sweep(ctx context.Context, chats *firestore.ChatService, messages *firestore.MessageService) {
	defer close(a.sweepDone)
	every(ctx, sweepEvery, sweepEvery/2, func(rctx context.Context) {
		n, err := chats.SweepPurges(rctx, sweepAfter)
		a.swept(ctx, n, err, "purge sweep failed", "purges finished by the sweeper", "chats")
		n, err = messages.SweepQuotes(rctx, quotesAfter)
		a.swept(ctx, n, err, "quote refresh sweep failed", "quote refreshes finished by the sweeper", "messages")
		n, err = messages.SweepUploads(rctx, uploadsAfter)
		a.swept(ctx, n, err, "upload sweep failed", "abandoned uploads deleted by the sweeper", "files")
	})
}

// every runs fn at once, then every period until ctx ends, each run
// bounded by timeout: the sweepers' loop.
func every(ctx context.Context, period, timeout time.Duration, fn func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		fn(rctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// swept logs a sweep's outcome: its failure (unless the instance is
// stopping), or how many (key) it finished.
func (a *App) swept(ctx context.Context, n int, err error, failed, finished, key string) {
	if err != nil && ctx.Err() == nil {
		a.log.Warn(failed, "err", err.Error())
	} else if err == nil && n > 0 {
		a.log.Info(finished, key, n)
	}
}
