package firestore

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// The reads of chats: one chat, the caller's list, and how a chat document
// becomes the contract's Chat for one viewer.

// build renders a chat for the viewer: profiles and read markers of all
// members, the viewer's unread count and mute, and msgs (nil: the last
// ChatMessagesLen).
func (s *ChatService) build(ctx context.Context, chatID string, doc *chatDoc, viewer string, msgs []*chat.Message) (*chat.Chat, error) {
	if msgs == nil {
		var err error
		if msgs, err = s.db.lastMessages(ctx, chatID, chat.ChatMessagesLen); err != nil {
			return nil, err
		}
	}
	members, err := s.db.memberDocs(ctx, map[string]*chatDoc{chatID: doc})
	if err != nil {
		return nil, err
	}
	users, err := s.db.getUsers(ctx, doc.MemberIDs)
	if err != nil {
		return nil, err
	}
	chat.MaskDeleted(msgs, doc.DeletedUsers)
	return render(chatID, doc, viewer, members[chatID], users, msgs, s.db.now()), nil
}

// memberDocs reads the membership documents of every member of the given
// chats in one call, by chat and uid.
func (db *DB) memberDocs(ctx context.Context, chats map[string]*chatDoc) (map[string]map[string]*memberDoc, error) {
	var refs []*firestore.DocumentRef
	for id, d := range chats {
		for _, uid := range d.MemberIDs {
			refs = append(refs, db.memberRef(id, uid))
		}
	}
	out := make(map[string]map[string]*memberDoc, len(chats))
	for id := range chats {
		out[id] = map[string]*memberDoc{}
	}
	err := db.getEach(ctx, refs, func(snap *firestore.DocumentSnapshot) {
		var m memberDoc
		if snap.DataTo(&m) == nil {
			out[snap.Ref.Parent.Parent.ID][snap.Ref.ID] = &m
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// render assembles a Chat from what was read, for viewer ("": for no one,
// hiding nothing: the engine's view, rendered per receiver later).
func render(chatID string, doc *chatDoc, viewer string, members map[string]*memberDoc, users map[string]*chat.User, msgs []*chat.Message, now time.Time) *chat.Chat {
	var readSeq int64
	var muted *time.Time
	if m := members[viewer]; m != nil {
		readSeq, muted = m.ReadSeq, m.MutedUntil
	} else if viewer == "" {
		readSeq = doc.LastSeq
	}
	unread := int(max(doc.LastSeq-readSeq, 0))
	c := &chat.Chat{
		ID: chatID, IsGroup: doc.IsGroup, Name: doc.Name, ProfilePic: doc.ProfilePic,
		CreatedAt: doc.CreatedAt.UTC(), CreatorID: doc.CreatorID, UnreadCount: unread, Messages: msgs,
		MutedUntil: chat.MuteValue(muted, now),
	}
	if c.Messages == nil {
		c.Messages = []*chat.Message{}
	}
	for _, uid := range sortedUsers(doc) {
		u := users[uid]
		if u == nil { // a deleted account, kept as the other member of a direct chat
			u = chat.DeletedUser(uid)
		}
		cu := &chat.ChatUser{UserID: uid, ChatID: chatID, JoinedAt: doc.Joined[uid].UTC(), User: u}
		if m := members[uid]; m != nil && m.LastReadID != "" {
			cu.LastReadMessageID, cu.LastReadAt = m.LastReadID, utc(m.LastReadAt)
		}
		if uid == viewer {
			cu.UnreadCount = unread
		}
		c.Users = append(c.Users, cu)
	}
	if viewer != "" {
		c.HideFor(viewer)
	}
	return c
}

// FindChat implements chat.ChatService.
func (s *ChatService) FindChat(ctx context.Context, chatID string) (*chat.Chat, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	doc, err := s.db.chatOf(ctx, nil, chatID, uid)
	if err != nil {
		return nil, translate(err)
	}
	c, err := s.build(ctx, chatID, doc, uid, nil)
	return c, translate(err)
}

// FindChats implements chat.ChatService. Reads for a page of n chats: n
// chat documents (one query), every member's membership (one batch: their
// read markers) and one profile per distinct member across the page (one
// batch); the last message is denormalised on the chat.
func (s *ChatService) FindChats(ctx context.Context, f chat.ChatFilter) ([]*chat.Chat, string, error) {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return nil, "", err
	}
	limit, err := chat.PageLimit(f.Limit, chat.DefaultPageLimit, chat.MaxPageLimit)
	if err != nil {
		return nil, "", err
	}
	q := s.db.query(qChatsOfUser, nil, uid)
	if f.Before != "" {
		at, id, err := parseChatCursor(f.Before)
		if err != nil {
			return nil, "", err
		}
		q = q.StartAfter(at, id)
	}
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(snaps) > limit {
		snaps = snaps[:limit]
		last := snaps[limit-1]
		at, _ := last.Data()["activityAt"].(time.Time)
		next = chatCursor(at, last.Ref.ID)
	}
	docs := make([]*chatDoc, len(snaps))
	byID := make(map[string]*chatDoc, len(snaps))
	var memberIDs []string
	for i, snap := range snaps {
		docs[i] = &chatDoc{}
		if err := snap.DataTo(docs[i]); err != nil {
			return nil, "", translate(err)
		}
		byID[snap.Ref.ID] = docs[i]
		memberIDs = append(memberIDs, docs[i].MemberIDs...)
	}
	members, err := s.db.memberDocs(ctx, byID)
	if err != nil {
		return nil, "", translate(err)
	}
	users, err := s.db.getUsers(ctx, memberIDs)
	if err != nil {
		return nil, "", translate(err)
	}
	now := s.db.now()
	out := make([]*chat.Chat, len(snaps))
	for i, snap := range snaps {
		msgs := []*chat.Message{}
		if m := lastMessage(docs[i]); m != nil {
			msgs = append(msgs, m)
		}
		chat.MaskDeleted(msgs, docs[i].DeletedUsers)
		out[i] = render(snap.Ref.ID, docs[i], uid, members[snap.Ref.ID], users, msgs, now)
	}
	return out, next, nil
}

func chatCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixNano(), 10) + ":" + id))
}

func parseChatCursor(c string) (time.Time, string, error) {
	bad := chat.Errorf(chat.EINVALID, "before is not a cursor from a previous page.")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	ns, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || chat.ValidateID("cursor", id) != nil {
		return time.Time{}, "", bad
	}
	return time.Unix(0, n).UTC(), id, nil
}
