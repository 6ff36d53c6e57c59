package firestore

import (
	"context"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// userState is what the feed knows of a user it serves (guarded by the
// user's shard's proc lock once placed; refs by Feed.mu).
type userState struct {
	refs          int
	shard         *shard
	freshMembers  bool // memberships not loaded yet: the first snapshot is a baseline
	freshMessages bool // likewise for messages
	chats         map[string]*memberState
	linger        *time.Timer // set while refs is 0: forget the user when it fires
}

// memberState is one membership of a served user.
type memberState struct {
	readSeq     int64
	metaVersion int64
	lastSeq     int64         // seq of the last newMessage emitted; 0 unknown
	lastMsg     *chat.Message // that message
	summary     string        // last chatSummary emitted, to skip repeats
}

func (f *Feed) liveUser(uid string) bool { return f.users[uid] != nil }

// Track implements chat.Feed.
func (f *Feed) Track(ctx context.Context, uid string) (func(), error) {
	f.mu.Lock()
	st := f.users[uid]
	if st != nil {
		st.refs++
		if st.linger != nil { // back within the linger: a reload, not a new user
			st.linger.Stop()
			st.linger = nil
		}
		sh := st.shard
		f.mu.Unlock()
		// Another socket of the user may still be waiting for the
		// shard; wait for the same guarantee.
		if sh != nil {
			sh.proc.Lock()
			covered := slices.Contains(sh.keys, uid) && !st.freshMembers && !st.freshMessages
			sh.proc.Unlock()
			if !covered {
				_, ch := f.placeExisting(sh, uid)
				if err := f.wait(ctx, ch); err != nil {
					f.untrack(uid)
					return nil, err
				}
			}
		}
		return f.releaser(uid), nil
	}
	st = &userState{refs: 1, freshMembers: true, freshMessages: true, chats: map[string]*memberState{}}
	f.users[uid] = st
	sh, ch := f.place(&f.userShards, "user", uid, f.liveUser)
	st.shard = sh
	f.mu.Unlock()
	if err := f.wait(ctx, ch); err != nil {
		f.untrack(uid)
		return nil, err
	}
	return f.releaser(uid), nil
}

// placeExisting asks a shard to cover a key it already owns.
func (f *Feed) placeExisting(sh *shard, key string) (*shard, <-chan error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sh, sh.enqueue(key)
}

func (f *Feed) releaser(uid string) func() {
	var once sync.Once
	return func() { once.Do(func() { f.untrack(uid) }) }
}

func (f *Feed) untrack(uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.users[uid]
	if st == nil {
		return
	}
	if st.refs--; st.refs > 0 {
		return
	}
	// Keep serving the user a while: a page reload or a reconnect comes
	// back within seconds and then finds its listeners running instead of
	// restarting its shard.
	st.linger = time.AfterFunc(f.opts.Linger, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.users[uid] == st && st.refs <= 0 {
			delete(f.users, uid)
		}
	})
}

// servedUser returns the state of a user this shard serves, nil if the
// user is not (or no longer) served here.
func (sh *shard) servedUser(uid string) *userState {
	sh.f.mu.Lock()
	defer sh.f.mu.Unlock()
	st := sh.f.users[uid]
	if st == nil || st.shard != sh {
		return nil
	}
	return st
}

// onMembers handles the memberships of the shard's users: newChat,
// chatDeleted, chatSummary after a read, chatUpdated on a change of the
// chat. The first snapshot of a generation holds every membership of the
// keys: a baseline for new users, a reconciliation for the others (what
// changed while the listener was being replaced).
func (sh *shard) onMembers(gen int64, snap *firestore.QuerySnapshot, first bool) {
	f := sh.f
	ctx := f.ctx
	cache := map[string]*loadedChat{}
	if first {
		seen := map[string]map[string]*memberDoc{}
		for _, m := range allDocs(snap, func(m *memberDoc) bool { return m.ChatID != "" }) {
			if seen[m.UserID] == nil {
				seen[m.UserID] = map[string]*memberDoc{}
			}
			seen[m.UserID][m.ChatID] = m
		}
		for _, uid := range sh.keys {
			st := sh.servedUser(uid)
			if st == nil {
				continue
			}
			if st.freshMembers {
				for cid, m := range seen[uid] {
					st.chats[cid] = &memberState{readSeq: m.ReadSeq, metaVersion: m.MetaVersion}
				}
				st.freshMembers = false
				continue
			}
			for cid := range st.chats {
				if seen[uid][cid] == nil {
					sh.memberRemoved(st, uid, cid)
				}
			}
			for _, m := range seen[uid] {
				sh.memberChanged(ctx, st, m, cache)
			}
		}
		return
	}
	for _, ch := range snap.Changes {
		var m memberDoc
		if ch.Doc.DataTo(&m) != nil || m.ChatID == "" {
			continue
		}
		st := sh.servedUser(m.UserID)
		if st == nil || st.freshMembers {
			continue
		}
		if ch.Kind == firestore.DocumentRemoved {
			sh.memberRemoved(st, m.UserID, m.ChatID)
		} else {
			sh.memberChanged(ctx, st, &m, cache)
		}
	}
}

func (sh *shard) memberRemoved(st *userState, uid, chatID string) {
	if _, ok := st.chats[chatID]; !ok {
		return
	}
	delete(st.chats, chatID)
	sh.f.sink.Deliver(chat.Event{Kind: chat.EventChatDeleted, UserID: uid, ChatID: chatID})
}

// memberChanged compares a membership with what the user was last told.
func (sh *shard) memberChanged(ctx context.Context, st *userState, m *memberDoc, cache map[string]*loadedChat) {
	f := sh.f
	ms := st.chats[m.ChatID]
	if ms == nil {
		ms = &memberState{readSeq: m.ReadSeq, metaVersion: m.MetaVersion}
		st.chats[m.ChatID] = ms
		if c := f.loadChat(ctx, m.ChatID, cache); c != nil {
			f.sink.Deliver(chat.Event{Kind: chat.EventNewChat, UserID: m.UserID, ChatID: m.ChatID, Chat: c.render(m.UserID, m.ReadSeq)})
		}
		return
	}
	if m.MetaVersion > ms.metaVersion {
		ms.metaVersion = m.MetaVersion
		if c := f.loadChat(ctx, m.ChatID, cache); c != nil {
			f.sink.Deliver(chat.Event{Kind: chat.EventChatUpdated, UserID: m.UserID, ChatID: m.ChatID, Chat: c.render(m.UserID, m.ReadSeq)})
		}
	}
	if m.ReadSeq > ms.readSeq {
		ms.readSeq = m.ReadSeq
		last, lastSeq := ms.lastMsg, ms.lastSeq
		if last == nil {
			c := f.loadChat(ctx, m.ChatID, cache)
			if c == nil {
				return
			}
			last, lastSeq = lastMessage(c.doc), c.doc.LastSeq
		}
		if last != nil {
			sh.summary(m.UserID, ms, last, max(lastSeq-m.ReadSeq, 0))
		}
	}
}

// summary emits a chatSummary unless the user was just told the same.
func (sh *shard) summary(uid string, ms *memberState, msg *chat.Message, unread int64) {
	key := msg.ID + "/" + time.Duration(unread).String()
	if ms.summary == key {
		return
	}
	ms.summary = key
	sh.f.sink.Deliver(chat.Event{Kind: chat.EventChatSummary, UserID: uid, ChatID: msg.ChatID,
		Summary: &chat.ChatSummary{ChatID: msg.ChatID, UnreadCount: int(unread), Message: msg}})
}

// onMessages turns added messages into newMessage and chatSummary for each
// served recipient, in seq order per chat: repeats (after a restart) are
// dropped and a gap (a message the listener never delivered) is filled by
// reading the missing messages first.
func (sh *shard) onMessages(gen int64, snap *firestore.QuerySnapshot, first bool) {
	for _, ch := range snap.Changes {
		if ch.Kind != firestore.DocumentAdded {
			continue // messages never change; heartbeats do
		}
		var md messageDoc
		if ch.Doc.DataTo(&md) != nil || md.ChatID == "" || md.Seq == 0 {
			continue
		}
		msg := md.toMessage(ch.Doc.Ref.ID)
		for _, uid := range md.MemberIDs {
			if !slices.Contains(sh.keys, uid) {
				continue
			}
			st := sh.servedUser(uid)
			if st == nil {
				continue
			}
			ms := st.chats[md.ChatID]
			if ms == nil {
				ms = &memberState{readSeq: -1}
				st.chats[md.ChatID] = ms
			}
			if st.freshMessages && first {
				ms.lastSeq = max(ms.lastSeq, md.Seq) // before the user's socket: baseline
				ms.lastMsg = msg
				continue
			}
			sh.deliverMessage(uid, ms, msg)
		}
	}
	if first {
		for _, uid := range sh.keys {
			if st := sh.servedUser(uid); st != nil {
				st.freshMessages = false
			}
		}
	}
}

func (sh *shard) deliverMessage(uid string, ms *memberState, msg *chat.Message) {
	f := sh.f
	if ms.lastSeq >= msg.Seq {
		return
	}
	if ms.lastSeq > 0 && msg.Seq > ms.lastSeq+1 {
		missing, err := f.messagesBetween(f.ctx, msg.ChatID, uid, ms.lastSeq, msg.Seq)
		if err != nil {
			f.log.Error("gap fill failed", "user", uid, "chat", msg.ChatID, "err", err.Error())
		}
		for _, m := range missing {
			sh.emitMessage(uid, ms, m)
		}
	}
	sh.emitMessage(uid, ms, msg)
}

func (sh *shard) emitMessage(uid string, ms *memberState, msg *chat.Message) {
	f := sh.f
	ms.lastSeq, ms.lastMsg = msg.Seq, msg
	f.sink.Deliver(chat.Event{Kind: chat.EventNewMessage, UserID: uid, ChatID: msg.ChatID, Message: msg})
	if msg.SenderID == uid {
		ms.readSeq = max(ms.readSeq, msg.Seq) // sending marks the chat read
	}
	if ms.readSeq < 0 { // membership not seen yet: read it
		snap, err := f.db.memberRef(msg.ChatID, uid).Get(f.ctx)
		if err != nil {
			f.log.Error("read membership failed", "user", uid, "chat", msg.ChatID, "err", err.Error())
			ms.readSeq = 0
		} else {
			n, _ := snap.Data()["readSeq"].(int64)
			ms.readSeq = n
		}
	}
	sh.summary(uid, ms, msg, max(msg.Seq-ms.readSeq, 0))
}

// messagesBetween reads the messages of a chat with seq in (from, to)
// addressed to uid, in order.
func (f *Feed) messagesBetween(ctx context.Context, chatID, uid string, from, to int64) ([]*chat.Message, error) {
	snaps, err := f.db.messages(chatID).Where("seq", ">", from).Where("seq", "<", to).
		OrderBy("seq", firestore.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	var out []*chat.Message
	for _, s := range snaps {
		var md messageDoc
		if s.DataTo(&md) == nil && slices.Contains(md.MemberIDs, uid) {
			out = append(out, md.toMessage(s.Ref.ID))
		}
	}
	return out, nil
}

// loadedChat is a chat read once per snapshot for every served member.
type loadedChat struct {
	id    string
	doc   *chatDoc
	users map[string]*chat.User
	msgs  []*chat.Message
}

func (c *loadedChat) render(viewer string, readSeq int64) *chat.Chat {
	return render(c.id, c.doc, viewer, readSeq, c.users, c.msgs)
}

// loadChat reads a chat with profiles and last messages; nil if it is gone
// (a deleted chat's chatDeleted follows).
func (f *Feed) loadChat(ctx context.Context, chatID string, cache map[string]*loadedChat) *loadedChat {
	if c, ok := cache[chatID]; ok {
		return c
	}
	cache[chatID] = nil
	snap, err := f.db.chatRef(chatID).Get(ctx)
	if err != nil {
		if !isNotFound(err) {
			f.log.Error("read chat failed", "chat", chatID, "err", err.Error())
		}
		return nil
	}
	var doc chatDoc
	if err := snap.DataTo(&doc); err != nil {
		return nil
	}
	msgs, err := f.chats.lastMessages(ctx, chatID, chat.ChatMessagesLen)
	if err != nil {
		f.log.Error("read messages failed", "chat", chatID, "err", err.Error())
		return nil
	}
	users, err := f.chats.users.getUsers(ctx, doc.MemberIDs)
	if err != nil {
		f.log.Error("read profiles failed", "chat", chatID, "err", err.Error())
		return nil
	}
	c := &loadedChat{id: chatID, doc: &doc, users: users, msgs: msgs}
	cache[chatID] = c
	return c
}
