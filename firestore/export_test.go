package firestore

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// The cursor decoders are unexported: the services are their only callers.
// These let the external fuzz tests drive them.

var (
	ParseChatCursor = parseChatCursor
	SeqOf           = seqOf
	ChatCursor      = chatCursor
)

// DeleteWithoutPurge deletes a chat as DeleteChat does and stops there, as
// a crash right after the delete's commit would.
func (s *ChatService) DeleteWithoutPurge(ctx context.Context, chatID string) error {
	return s.deleteChat(ctx, chatID)
}

// StoreWithoutMessage uploads f for a message that never commits, as a
// crash between the upload and the commit would leave it. It returns the
// object's name.
func (s *MessageService) StoreWithoutMessage(ctx context.Context, chatID string, f *chat.File) (string, error) {
	up, err := s.store(ctx, chatID, f)
	if err != nil {
		return "", err
	}
	return up.object, nil
}

// Waiting is how many sends wait in chatID's queue (not counting a batch
// in flight).
func (s *MessageService) Waiting(chatID string) int {
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	if c := s.queue.chats[chatID]; c != nil {
		return len(c.waiting)
	}
	return 0
}

// QueuedSend describes a send for the queue's tests: Key is its
// clientMessageId, File whether it carries an attachment.
type QueuedSend struct {
	Ctx   context.Context
	Label string
	Key   string
	File  bool
}

// SendQueue is the send queue with its batches handed to a test's commit
// instead of storage; the sends of a batch are answered (nil) when commit
// returns.
type SendQueue struct{ q *sendQueue }

// NewSendQueue returns a SendQueue calling commit with each batch's labels.
func NewSendQueue(commit func(chatID string, labels []string)) *SendQueue {
	return &SendQueue{newSendQueue(func(chatID string, batch []*pendingSend) {
		labels := make([]string, len(batch))
		for i, p := range batch {
			labels[i] = p.in.Content
		}
		commit(chatID, labels)
		answerAll(batch, nil)
	})}
}

// Add queues s for chatID; wait returns its answer.
func (q *SendQueue) Add(chatID string, s QueuedSend) (wait func() error, err error) {
	p := &pendingSend{ctx: s.Ctx, in: chat.MessageCreate{Content: s.Label}, done: make(chan sendResult, 1)}
	if s.Key != "" {
		p.keyRef = &firestore.DocumentRef{Path: "keys/" + s.Key, ID: s.Key}
	}
	if s.File {
		p.up = &upload{}
	}
	if err := q.q.add(chatID, p); err != nil {
		return nil, err
	}
	return func() error { return (<-p.done).err }, nil
}

// SendUnchecked sends in without the domain's checks of its values, as a
// value that slipped past every check would reach its chat's batch.
func (s *MessageService) SendUnchecked(ctx context.Context, chatID string, in chat.MessageCreate) (*chat.Message, bool, error) {
	id, _ := chat.IdentityFromContext(ctx)
	return s.sendValid(ctx, chatID, id, in)
}

// FloorTokens is what is left of chatID's floor bucket now.
func (s *MessageService) FloorTokens(chatID string) float64 {
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	if c := s.queue.chats[chatID]; c != nil {
		return c.floor.Tokens()
	}
	return -1
}

// UploadSlots is the instance's count of uploads in progress.
type UploadSlots struct{ s *uploadSlots }

// NewUploadSlots returns an empty count; MaxUploads is its instance cap.
func NewUploadSlots() UploadSlots { return UploadSlots{newUploadSlots()} }

// MaxUploads is the instance-wide cap of uploads in progress.
const MaxUploads = maxUploads

// Take reserves an upload slot for uid.
func (u UploadSlots) Take(uid string) (func(), error) { return u.s.take(uid) }

// Audience bounds: AudienceChats chats make a flip's audience.
const AudienceChats = audienceChats

// SeedChats stores n groups between uid and other(i) straight in the
// database, each a minute more recently active than the one before, as a
// user added to many groups would have them. It returns their ids.
func (db *DB) SeedChats(ctx context.Context, uid string, n int, other func(i int) string) ([]string, error) {
	bw := db.client.BulkWriter(ctx)
	base := time.Now().Add(-time.Duration(n) * time.Minute).UTC()
	ids := make([]string, n)
	for i := range n {
		ref := db.client.Collection("chats").NewDoc()
		ids[i] = ref.ID
		at := base.Add(time.Duration(i) * time.Minute)
		d := chatDoc{IsGroup: true, Name: "seeded", MemberIDs: []string{uid, other(i)}, CreatedAt: base, ActivityAt: at, CreatorID: uid}
		if _, err := bw.Set(ref, d); err != nil {
			return nil, err
		}
	}
	bw.End()
	return ids, nil
}

// EditWithoutRefresh changes a quoted message's content and leaves the
// quote refresh's to-do, dated at, as an edit whose instance died before
// refreshing the quotes would.
func (s *MessageService) EditWithoutRefresh(ctx context.Context, chatID, mid, content string, at time.Time) error {
	b := s.db.client.Batch()
	b.Update(s.db.messages(chatID).Doc(mid), []firestore.Update{{Path: "content", Value: content}})
	b.Set(s.db.quoteRefreshRef(chatID, mid), quoteRefreshDoc{ChatID: chatID, MessageID: mid, At: at})
	_, err := b.Commit(ctx)
	return err
}

// PushCase is a chat as the push rule sees it, for the rule's unit test.
type PushCase struct {
	Direct, Blocked bool
	Members         []string
	LastSeq         int64
	Sender          string
	Mentions        []string
	Deleted         bool
	ReadSeq         map[string]int64
	Muted           map[string]time.Time
	PushedSeq       map[string]int64
	PushedAt        map[string]time.Time
	Now             time.Time
}

// Owed runs the push rule (Pusher.owed) on c.
func Owed(c PushCase) ([]string, time.Time) {
	d := &chatDoc{IsGroup: !c.Direct, MemberIDs: c.Members, LastSeq: c.LastSeq,
		LastMessage: &messageDoc{ID: "m", SenderID: c.Sender, Mentions: c.Mentions}}
	if c.Deleted {
		d.LastMessage.DeletedAt = &c.Now
	}
	if c.Blocked {
		d.BlockedBy = []string{c.Members[0]}
	}
	members := map[string]*memberDoc{}
	for _, uid := range c.Members {
		m := &memberDoc{UserID: uid, ReadSeq: c.ReadSeq[uid]}
		if t, ok := c.Muted[uid]; ok {
			m.MutedUntil = &t
		}
		members[uid] = m
	}
	todo := &pushDoc{Pushed: map[string]pushedDoc{}}
	for uid, seq := range c.PushedSeq {
		todo.Pushed[uid] = pushedDoc{Seq: seq, At: c.PushedAt[uid]}
	}
	return (&Pusher{}).owed(d, members, todo, c.Now)
}

// SeedMessages writes n messages of sender into a chat straight to
// storage (a BulkWriter, not the send path): for measurements that need
// many messages fast.
func SeedMessages(ctx context.Context, db *DB, chatID, sender string, n int) error {
	bw := db.client.BulkWriter(ctx)
	now := time.Now().UTC()
	for i := 1; i <= n; i++ {
		m := messageDoc{ChatID: chatID, Seq: int64(i), SenderID: sender, SenderUsername: "seed", Content: fmt.Sprintf("seeded message %d", i),
			CreatedAt: now.Add(time.Duration(i) * time.Millisecond), Rev: int64(i), Mentions: []string{}}
		if _, err := bw.Set(db.messages(chatID).Doc(messageID(int64(i), "seedseed")), m); err != nil {
			bw.End()
			return err
		}
	}
	bw.End()
	return nil
}
