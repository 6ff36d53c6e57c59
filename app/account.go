package app

import (
	"context"
	"time"
)

// AccountSettings time the background clean-up of deleted accounts (the
// contract resumes one whose instance died within 10 minutes).
type AccountSettings struct {
	// Lease is how long an instance may go without renewing a clean-up
	// it runs before another takes it over (1 minute when zero).
	Lease time.Duration
	// SweepEvery is how often every instance looks for clean-ups whose
	// lease lapsed (1 minute when zero).
	SweepEvery time.Duration
}

// sweepAccounts takes over, on every instance, the clean-ups of deleted
// accounts that their instance stopped: at start, then every SweepEvery.
func (a *App) sweepAccounts(ctx context.Context, every time.Duration) {
	defer close(a.accountsDone)
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, every)
		if n, err := a.accounts.SweepAccounts(rctx); err != nil && ctx.Err() == nil {
			a.log.Warn("account clean-up sweep failed", "err", err.Error())
		} else if n > 0 {
			a.log.Info("account clean-ups taken over by the sweeper", "accounts", n)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
