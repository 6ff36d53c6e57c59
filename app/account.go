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
func (a *App) sweepAccounts(ctx context.Context, period time.Duration) {
	defer close(a.accountsDone)
	if period <= 0 {
		period = time.Minute
	}
	every(ctx, period, period, func(rctx context.Context) {
		n, err := a.accounts.SweepAccounts(rctx)
		a.swept(ctx, n, err, "account clean-up sweep failed", "account clean-ups taken over by the sweeper", "accounts")
	})
}
