package realtime

import "sync"

// mail is a message to a shard's goroutine. Each kind handles itself, so
// no kind can be posted without a handler.
type mail interface{ handle(sh *shard) }

// The shard's own messages; the routers add theirs (users.go).
type (
	addKey    struct{ s *sub }
	removeKey struct{ s *sub }
	batchMsg  struct {
		gen  int64
		kind Kind
		b    Batch
	}
	listenErr struct {
		gen  int64
		kind Kind
		err  error
	}
	retire struct{} // the shard has no keys left: end
)

func (m addKey) handle(sh *shard)    { sh.addKey(m.s) }
func (m removeKey) handle(sh *shard) { sh.removeKey(m.s) }
func (m batchMsg) handle(sh *shard)  { sh.onBatch(m) }
func (m listenErr) handle(sh *shard) { sh.onListenErr(m) }
func (retire) handle(sh *shard)      { sh.retired = true }

// mailbox is the queue of messages to a shard's goroutine. Posting never
// blocks, so it may be done under the registry's lock and from listener
// callbacks. Listener batches past max are shed (shed is then set): the
// shard resyncs its keys. Every other message is bounded by the keys and
// reads of the shard, and always kept.
type mailbox struct {
	wake chan struct{} // signalled when q becomes non-empty
	max  int           // batches kept at most

	mu      sync.Mutex // guards q, batches, shed
	q       []mail
	batches int  // listener batches in q
	shed    bool // a batch was shed since the last take
}

func newMailbox(max int) mailbox { return mailbox{wake: make(chan struct{}, 1), max: max} }

func (m *mailbox) post(v mail) {
	m.mu.Lock()
	if _, ok := v.(batchMsg); ok {
		if m.batches >= m.max {
			m.shed = true
			m.mu.Unlock()
			return
		}
		m.batches++
	}
	m.q = append(m.q, v)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take empties the mailbox; shed tells that batches were dropped.
func (m *mailbox) take() (q []mail, shed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, shed = m.q, m.shed
	m.q, m.batches, m.shed = nil, 0, false
	return q, shed
}
