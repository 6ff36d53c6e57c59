package chattest

import (
	"context"
	"errors"
	"sync"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

// FaultySource wraps the real listener layer so a test can make it
// misbehave at its boundary: freeze the running listeners (they drop what
// they receive, as a silently stalled stream would). It also counts every
// change any listener receives, per chat, before the engine filters
// anything.
type FaultySource struct {
	realtime.Source

	mu          sync.Mutex // guards started, frozenBelow, changes
	started     int        // listeners started so far
	frozenBelow int        // listeners started before this are frozen
	changes     map[string]int
}

// NewFaultySource wraps src; WrapSource in Options takes it.
func NewFaultySource(src realtime.Source) *FaultySource {
	return &FaultySource{Source: src, changes: map[string]int{}}
}

// Listen implements realtime.Source.
func (f *FaultySource) Listen(ctx context.Context, q realtime.Query, emit func(realtime.Batch)) error {
	f.mu.Lock()
	id := f.started
	f.started++
	f.mu.Unlock()
	return f.Source.Listen(ctx, q, func(b realtime.Batch) {
		f.mu.Lock()
		for _, c := range b.Changes {
			f.changes[changeChat(c)]++
		}
		drop := id < f.frozenBelow
		f.mu.Unlock()
		if !drop {
			emit(b)
		}
	})
}

func changeChat(c realtime.Change) string {
	switch {
	case c.Membership != nil:
		return c.Membership.ChatID
	case c.Posted != nil:
		return c.Posted.Message.ChatID
	case c.Typing != nil:
		return c.Typing.Typing.ChatID
	}
	return ""
}

// Freeze makes every listener running now drop what it receives; the
// engine's restarted listeners are healthy again.
func (f *FaultySource) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozenBelow = f.started
}

// Changes counts the changes of a chat any listener has received.
func (f *FaultySource) Changes(chatID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes[chatID]
}

// FaultyReader wraps the engine's reader so a test can make every read
// fail until healed.
type FaultyReader struct {
	realtime.Reader

	mu      sync.Mutex // guards failing, failed
	failing bool
	failed  int
}

// NewFaultyReader wraps rd; WrapReader in Options takes it.
func NewFaultyReader(rd realtime.Reader) *FaultyReader { return &FaultyReader{Reader: rd} }

// Fail makes every read fail until Heal.
func (f *FaultyReader) Fail() { f.set(true) }

// Heal makes reads work again.
func (f *FaultyReader) Heal() { f.set(false) }

// Failed counts the reads that failed.
func (f *FaultyReader) Failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *FaultyReader) set(failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = failing
}

var errInjected = errors.New("chattest: injected read failure")

func (f *FaultyReader) fault() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing {
		return nil
	}
	f.failed++
	return errInjected
}

// LoadChat implements realtime.Reader.
func (f *FaultyReader) LoadChat(ctx context.Context, chatID string) (*realtime.ChatView, error) {
	if err := f.fault(); err != nil {
		return nil, err
	}
	return f.Reader.LoadChat(ctx, chatID)
}

// MessagesBetween implements realtime.Reader.
func (f *FaultyReader) MessagesBetween(ctx context.Context, chatID, uid string, from, to int64) ([]*chat.Message, error) {
	if err := f.fault(); err != nil {
		return nil, err
	}
	return f.Reader.MessagesBetween(ctx, chatID, uid, from, to)
}

// ReadSeq implements realtime.Reader.
func (f *FaultyReader) ReadSeq(ctx context.Context, chatID, uid string) (int64, bool, error) {
	if err := f.fault(); err != nil {
		return 0, false, err
	}
	return f.Reader.ReadSeq(ctx, chatID, uid)
}
