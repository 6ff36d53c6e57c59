package firestore

import (
	"context"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// roomState is a chat whose room has sockets on this instance.
type roomState struct {
	linger *time.Timer // set while refs is 0
	refs   int
	shard  *shard
	fresh  bool
	typing map[string]*typist // guarded by the shard's proc lock
}

// typist is someone typing in a watched chat, as this instance sees it.
type typist struct {
	t     chat.Typing
	until time.Time
	timer *time.Timer
}

func (f *Feed) liveRoom(chatID string) bool { return f.rooms[chatID] != nil }

// WatchChat implements chat.Feed.
func (f *Feed) WatchChat(ctx context.Context, chatID string) (func(), error) {
	f.mu.Lock()
	rs := f.rooms[chatID]
	if rs != nil && !rs.fresh {
		rs.refs++
		if rs.linger != nil {
			rs.linger.Stop()
			rs.linger = nil
		}
		f.mu.Unlock()
		return f.roomReleaser(chatID), nil
	}
	if rs != nil { // another socket is waiting for the same shard
		rs.refs++
		if rs.linger != nil {
			rs.linger.Stop()
			rs.linger = nil
		}
		sh := rs.shard
		f.mu.Unlock()
		_, ch := f.placeExisting(sh, chatID)
		if err := f.wait(ctx, ch); err != nil {
			f.unwatch(chatID)
			return nil, err
		}
		return f.roomReleaser(chatID), nil
	}
	rs = &roomState{refs: 1, fresh: true, typing: map[string]*typist{}}
	f.rooms[chatID] = rs
	sh, ch := f.place(&f.roomShards, "room", chatID, f.liveRoom)
	rs.shard = sh
	f.mu.Unlock()
	if err := f.wait(ctx, ch); err != nil {
		f.unwatch(chatID)
		return nil, err
	}
	return f.roomReleaser(chatID), nil
}

func (f *Feed) roomReleaser(chatID string) func() {
	var once sync.Once
	return func() { once.Do(func() { f.unwatch(chatID) }) }
}

func (f *Feed) unwatch(chatID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.rooms[chatID]
	if rs == nil {
		return
	}
	if rs.refs--; rs.refs > 0 {
		return
	}
	// Rooms linger like users: a view reopened within seconds (a reload)
	// finds its typing listener running.
	rs.linger = time.AfterFunc(f.opts.Linger, func() {
		f.mu.Lock()
		if f.rooms[chatID] != rs || rs.refs > 0 {
			f.mu.Unlock()
			return
		}
		delete(f.rooms, chatID)
		sh := rs.shard
		f.mu.Unlock()
		sh.proc.Lock()
		for _, t := range rs.typing {
			t.timer.Stop()
		}
		rs.typing = map[string]*typist{}
		sh.proc.Unlock()
	})
}

func (sh *shard) servedRoom(chatID string) *roomState {
	sh.f.mu.Lock()
	defer sh.f.mu.Unlock()
	rs := sh.f.rooms[chatID]
	if rs == nil || rs.shard != sh {
		return nil
	}
	return rs
}

// onTyping turns typing documents into typing/stopTyping for the room. An
// entry expires here at its `until` whatever its writer does, so a typist
// whose instance died stops typing everywhere after TypingTTL.
func (sh *shard) onTyping(gen int64, snap *firestore.QuerySnapshot, first bool) {
	now := sh.f.db.Now()
	if first {
		present := map[string]map[string]*typingDoc{}
		for _, t := range allDocs(snap, func(t *typingDoc) bool { return t.UserID != "" }) {
			if present[t.ChatID] == nil {
				present[t.ChatID] = map[string]*typingDoc{}
			}
			present[t.ChatID][t.UserID] = t
		}
		for _, cid := range sh.keys {
			rs := sh.servedRoom(cid)
			if rs == nil {
				continue
			}
			for uid := range rs.typing {
				if present[cid][uid] == nil {
					sh.stopTyping(rs, uid)
				}
			}
			for _, t := range present[cid] {
				sh.typingSeen(rs, t, now, !rs.fresh)
			}
			rs.fresh = false
		}
		return
	}
	for _, ch := range snap.Changes {
		var t typingDoc
		if ch.Doc.DataTo(&t) != nil || t.UserID == "" {
			continue
		}
		rs := sh.servedRoom(t.ChatID)
		if rs == nil || rs.fresh {
			continue
		}
		if ch.Kind == firestore.DocumentRemoved {
			sh.stopTyping(rs, t.UserID)
		} else {
			sh.typingSeen(rs, &t, now, true)
		}
	}
}

// typingSeen records a live typing document; only a change of state is
// emitted when announce is set.
func (sh *shard) typingSeen(rs *roomState, t *typingDoc, now time.Time, announce bool) {
	if !t.Until.After(now) {
		sh.stopTyping(rs, t.UserID)
		return
	}
	cur := rs.typing[t.UserID]
	if cur == nil {
		cur = &typist{t: chat.Typing{ChatID: t.ChatID, UserID: t.UserID, Username: t.Username}}
		rs.typing[t.UserID] = cur
		if announce {
			sh.f.sink.Deliver(chat.Event{Kind: chat.EventTyping, ChatID: t.ChatID, Typing: &cur.t})
		}
	} else {
		cur.timer.Stop()
	}
	cur.until = t.Until
	uid := t.UserID
	cur.timer = time.AfterFunc(t.Until.Sub(now), func() {
		sh.proc.Lock()
		defer sh.proc.Unlock()
		if rs.typing[uid] == cur && !sh.f.db.Now().Before(cur.until) {
			sh.stopTyping(rs, uid)
		}
	})
}

func (sh *shard) stopTyping(rs *roomState, uid string) {
	cur := rs.typing[uid]
	if cur == nil {
		return
	}
	cur.timer.Stop()
	delete(rs.typing, uid)
	sh.f.sink.Deliver(chat.Event{Kind: chat.EventStopTyping, ChatID: cur.t.ChatID, Typing: &cur.t})
}
