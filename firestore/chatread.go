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

// build renders a chat for the viewer: profiles of all members, the
// viewer's unread count, and msgs (nil: the last ChatMessagesLen).
func (s *ChatService) build(ctx context.Context, chatID string, doc *chatDoc, viewer string, readSeq int64, msgs []*chat.Message) (*chat.Chat, error) {
	if msgs == nil {
		var err error
		if msgs, err = s.db.lastMessages(ctx, chatID, chat.ChatMessagesLen); err != nil {
			return nil, err
		}
	}
	users, err := s.db.getUsers(ctx, doc.MemberIDs)
	if err != nil {
		return nil, err
	}
	return render(chatID, doc, viewer, readSeq, users, msgs), nil
}

// render assembles a Chat from what was read.
func render(chatID string, doc *chatDoc, viewer string, readSeq int64, users map[string]*chat.User, msgs []*chat.Message) *chat.Chat {
	unread := int(max(doc.LastSeq-readSeq, 0))
	c := &chat.Chat{
		ID: chatID, IsGroup: doc.IsGroup, Name: doc.Name, ProfilePic: doc.ProfilePic,
		CreatedAt: doc.CreatedAt.UTC(), CreatorID: doc.CreatorID, UnreadCount: unread, Messages: msgs,
	}
	if c.Messages == nil {
		c.Messages = []*chat.Message{}
	}
	for _, uid := range sortedUsers(doc) {
		u := users[uid]
		if u == nil { // profile gone: keep the membership visible
			u = &chat.User{ID: uid, Username: ""}
		}
		cu := &chat.ChatUser{UserID: uid, ChatID: chatID, JoinedAt: doc.Joined[uid].UTC(), User: u}
		if uid == viewer {
			cu.UnreadCount = unread
		}
		c.Users = append(c.Users, cu)
	}
	return c
}

// FindChat implements chat.ChatService.
func (s *ChatService) FindChat(ctx context.Context, chatID string) (*chat.Chat, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	doc, m, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return nil, translate(err)
	}
	c, err := s.build(ctx, chatID, doc, uid, m.ReadSeq, nil)
	return c, translate(err)
}

// FindChats implements chat.ChatService. Reads for a page of n chats: n
// chat documents (one query), n of the caller's memberships (one batch)
// and one profile per distinct member across the page (one batch); the last
// message is denormalised on the chat.
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
	refs := make([]*firestore.DocumentRef, len(snaps))
	var memberIDs []string
	for i, snap := range snaps {
		docs[i] = &chatDoc{}
		if err := snap.DataTo(docs[i]); err != nil {
			return nil, "", translate(err)
		}
		refs[i] = s.db.memberRef(snap.Ref.ID, uid)
		memberIDs = append(memberIDs, docs[i].MemberIDs...)
	}
	readSeqs := make([]int64, len(snaps))
	if len(refs) > 0 {
		msnaps, err := s.db.client.GetAll(ctx, refs)
		if err != nil {
			return nil, "", translate(err)
		}
		for i, ms := range msnaps {
			if ms.Exists() {
				n, _ := ms.Data()["readSeq"].(int64)
				readSeqs[i] = n
			}
		}
	}
	users, err := s.db.getUsers(ctx, memberIDs)
	if err != nil {
		return nil, "", translate(err)
	}
	out := make([]*chat.Chat, len(snaps))
	for i, snap := range snaps {
		msgs := []*chat.Message{}
		if m := lastMessage(docs[i]); m != nil {
			msgs = append(msgs, m)
		}
		out[i] = render(snap.Ref.ID, docs[i], uid, readSeqs[i], users, msgs)
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
