package firestore

import (
	"context"
	"maps"
	"path"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/emoji"
)

// An edit, a deletion or a reaction rewrites the message document in place
// and takes the chat's next rev. It travels the send path: it waits in the
// chat's queue and commits in the chat's next batch, conditional on the
// chat's version like the sends beside it. So every change to a chat's
// messages is ordered by one counter (chatDoc.LastRev) that moves only in
// commits that are themselves ordered by the chat document, and a busy
// chat's changes cost it no write of their own: they share the batch's.
// Changes of one message in one batch apply in queue order to one working
// copy and are written once (a commit writes a document once).
//
// The rewritten message is addressed to the chat's current members
// (memberIds) and has revAt set again, so the listeners, which select
// messages by revAt, see it as a change however old the message is.

// pendingChange is a change of a message waiting in its chat's queue.
type pendingChange struct {
	mid   string
	apply changeFunc
	// Set by settle for the batch's write:
	doc    *messageDoc // the message after this change, ID set
	fileID string      // a deletion's attachment, "" if none
	// todo is the to-do of fileID's object, written in the commit.
	todo *firestore.DocumentRef
	// requote tells that the change altered what a quote shows.
	requote bool
	// system marks a change the server makes for an account deleted
	// since (its messages' tombstones): no member check.
	system bool
	// token is the batch attempt's, written with the change (changeId): a
	// commit that failed but landed is known by it. Its rev cannot tell:
	// another instance's batch that read the same chat version took the
	// same rev.
	token string
}

// changeFunc applies a change to m, the message as read, for the caller
// uid in chat c. It answers whether anything changed, or why the caller
// may not change it.
type changeFunc func(uid string, c *chatDoc, m *messageDoc) (bool, error)

// EditMessage implements chat.MessageService.
func (s *MessageService) EditMessage(ctx context.Context, chatID, mid string, e chat.MessageEdit) (*chat.Message, error) {
	if err := e.Validate(true); err != nil {
		return nil, err
	}
	mentions, _ := chat.ValidateMentions(e.Mentions) // checked by Validate: its deduplicated form
	now := s.db.now()
	m, pc, err := s.change(ctx, chatID, mid, func(uid string, c *chatDoc, m *messageDoc) (bool, error) {
		switch {
		case c.blocked():
			return false, chat.ErrBlocked()
		case m.SenderID != uid:
			return false, chat.Errorf(chat.EFORBIDDEN, "Only its sender may edit a message.")
		case m.DeletedAt != nil:
			return false, chat.Errorf(chat.ECONFLICT, "A deleted message cannot be edited.")
		}
		if err := e.Validate(m.FileURL != ""); err != nil {
			return false, err
		}
		if e.Mentions == nil {
			mentions = m.Mentions
		} else if err := checkMentions(c, mentions); err != nil {
			return false, err
		}
		if m.Content == e.Content && slices.Equal(m.Mentions, mentions) {
			return false, nil
		}
		m.Content, m.EditedAt, m.Mentions = e.Content, &now, mentions
		return true, nil
	})
	if err == nil {
		s.refreshQuotesLater(chatID, mid, pc)
	}
	return m, err
}

// checkMentions refuses mentions of anyone not in the chat now.
func checkMentions(c *chatDoc, mentions []string) error {
	for _, uid := range mentions {
		if !slices.Contains(c.MemberIDs, uid) {
			return chat.Errorf(chat.EINVALID, "%q is not a member of this chat.", uid)
		}
	}
	return nil
}

// DeleteMessage implements chat.MessageService. The attachment's object
// is removed before the answer, so its URL answers 404 from then on; the
// to-do written in the deleting commit lets the sweeper finish if this
// instance dies first.
func (s *MessageService) DeleteMessage(ctx context.Context, chatID, mid string) error {
	now := s.db.now()
	_, pc, err := s.change(ctx, chatID, mid, func(uid string, c *chatDoc, m *messageDoc) (bool, error) {
		if m.SenderID != uid && !(c.IsGroup && c.CreatorID == uid) {
			return false, chat.Errorf(chat.EFORBIDDEN, "Only its sender, or a group's creator, may delete a message.")
		}
		return erase(m, now), nil
	})
	if err != nil {
		return err
	}
	s.erased(ctx, chatID, mid, pc)
	return nil
}

// erase makes m a tombstone; false if it is one already.
func erase(m *messageDoc, now time.Time) bool {
	if m.DeletedAt != nil {
		return false
	}
	m.Content, m.FileURL, m.FileName, m.DeletedAt = "", "", "", &now
	m.Mentions, m.Reactions, m.ReplyTo = []string{}, nil, nil
	return true
}

// erased finishes a committed deletion: the quotes of the message are
// refreshed, and its attachment's object removed before the answer.
func (s *MessageService) erased(ctx context.Context, chatID, mid string, pc *pendingChange) {
	s.refreshQuotesLater(chatID, mid, pc)
	if pc.fileID == "" {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := s.giveUp(cctx, &upload{fileID: pc.fileID, object: chat.FileObject(chatID, pc.fileID), todo: pc.todo}); err != nil {
		s.db.Log.Warn("attachment removal failed; the sweeper will finish it", "chat", chatID, "message", mid, "err", err.Error())
	}
}

// tombstone deletes a message of a deleted account for everyone, as
// DeleteMessage would but with no caller (the account is gone): it takes
// the chat's next rev, members get messageUpdated, and it names its
// sender DeletedUsername. A chat deleted meanwhile has nothing to do.
func (s *MessageService) tombstone(ctx context.Context, chatID, mid, uid string) error {
	now := s.db.now()
	pc := &pendingChange{mid: mid, system: true, apply: func(_ string, _ *chatDoc, m *messageDoc) (bool, error) {
		if m.SenderID != uid {
			return false, nil
		}
		renamed := m.SenderUsername != chat.DeletedUsername
		m.SenderUsername = chat.DeletedUsername
		return erase(m, now) || renamed, nil
	}}
	p := &pendingSend{ctx: ctx, id: chat.Identity{UID: uid}, change: pc, done: make(chan sendResult, 1)}
	if _, _, err := s.send(ctx, chatID, p); err != nil {
		if chat.ErrorCode(err) == chat.ENOTFOUND {
			return nil
		}
		return err
	}
	s.erased(ctx, chatID, mid, pc)
	return nil
}

// React implements chat.MessageService: any member may react, once per
// emoji; the reactors of an emoji are kept in order, so "the first 20"
// stays the same as more react.
func (s *MessageService) React(ctx context.Context, chatID, mid, e string, on bool) error {
	e, ok := emoji.Normalize(e)
	if !ok {
		return chat.Errorf(chat.EINVALID, "A reaction is one emoji.")
	}
	_, _, err := s.change(ctx, chatID, mid, func(uid string, c *chatDoc, m *messageDoc) (bool, error) {
		if c.blocked() {
			return false, chat.ErrBlocked()
		}
		if m.DeletedAt != nil {
			return false, chat.Errorf(chat.ECONFLICT, "A deleted message takes no reactions.")
		}
		rs, changed, err := toggle(m.Reactions, e, uid, on)
		m.Reactions = rs
		return changed, err
	})
	return err
}

// toggle returns rs with uid's reaction e on or off (a copy: rs may be
// shared with the message as read), and whether that changed anything.
func toggle(rs []reactionDoc, e, uid string, on bool) ([]reactionDoc, bool, error) {
	i := slices.IndexFunc(rs, func(r reactionDoc) bool { return r.Emoji == e })
	if has := i >= 0 && slices.Contains(rs[i].UserIDs, uid); has == on {
		return rs, false, nil
	}
	rs = slices.Clone(rs)
	switch {
	case !on:
		rs[i].UserIDs = slices.DeleteFunc(slices.Clone(rs[i].UserIDs), func(id string) bool { return id == uid })
		if len(rs[i].UserIDs) == 0 {
			rs = slices.Delete(rs, i, i+1)
		}
	case i >= 0:
		rs[i].UserIDs = append(slices.Clone(rs[i].UserIDs), uid)
	case len(rs) >= chat.MaxReactionKinds:
		return nil, false, chat.Errorf(chat.ECONFLICT, "A message takes at most %d different emoji.", chat.MaxReactionKinds)
	default:
		rs = append(rs, reactionDoc{Emoji: e, UserIDs: []string{uid}})
	}
	return rs, true, nil
}

// GetMessage implements chat.MessageService.
func (s *MessageService) GetMessage(ctx context.Context, chatID, mid string) (*chat.Message, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	if _, err := seqOf(mid); err != nil {
		return nil, errMessageNotFound()
	}
	doc, _, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return nil, translate(err)
	}
	m, err := s.byID(ctx, chatID, mid)
	if err == nil && m == nil {
		err = errMessageNotFound()
	}
	if err != nil {
		return nil, translate(err)
	}
	chat.MaskDeleted([]*chat.Message{m}, doc.DeletedUsers)
	return m, nil
}

// change queues a change of message mid for the chat's next batch and
// waits for it to commit.
func (s *MessageService) change(ctx context.Context, chatID, mid string, fn changeFunc) (*chat.Message, *pendingChange, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, nil, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if err := chat.ValidateID("Chat id", chatID); err != nil {
		return nil, nil, err
	}
	if _, err := seqOf(mid); err != nil {
		return nil, nil, errMessageNotFound()
	}
	pc := &pendingChange{mid: mid, apply: fn}
	p := &pendingSend{ctx: ctx, id: id, change: pc, done: make(chan sendResult, 1)}
	m, _, err := s.send(ctx, chatID, p)
	return m, pc, err
}

func errMessageNotFound() error { return chat.Errorf(chat.ENOTFOUND, "Message not found.") }

// settle decides a change against what its batch read, and what the
// batch's earlier changes of the same message made of it: it answers the
// change and returns true when the change is refused or changes nothing,
// and returns false when the change is to be written.
func (pc *pendingChange) settle(p *pendingSend, pre *batchRead) bool {
	read := pre.messages[pc.mid]
	if read == nil {
		p.answer(nil, false, errMessageNotFound())
		return true
	}
	m := *read
	hadFile := m.FileURL
	changed, err := pc.apply(p.id.UID, pre.chat, &m)
	if err != nil || !changed {
		var out *chat.Message
		if err == nil {
			out = read.toMessage(pc.mid)
		}
		p.answer(out, false, err)
		return true
	}
	m.ID = pc.mid
	renameDeleted(&m, pre.chat.DeletedUsers)
	pre.messages[pc.mid] = &m
	pc.doc, pc.fileID, pc.todo = &m, "", nil
	pc.requote = m.Content != read.Content || m.FileName != read.FileName || (m.DeletedAt != nil) != (read.DeletedAt != nil)
	if hadFile != "" && m.FileURL == "" {
		pc.fileID = path.Base(hadFile)
	}
	return false
}

// renameDeleted names a deleted account's message, or a quote of one,
// DeletedUsername as a change rewrites it: the event it makes must not
// carry the old name (reads mask it; events are the document).
func renameDeleted(m *messageDoc, deleted []string) {
	if slices.Contains(deleted, m.SenderID) {
		m.SenderUsername = chat.DeletedUsername
	}
	if q := m.ReplyTo; q != nil && slices.Contains(deleted, q.SenderID) && q.Username != chat.DeletedUsername {
		cp := *q
		cp.Username = chat.DeletedUsername
		m.ReplyTo = &cp
	}
}

// stampChange gives a settled change its rev and addressing, and returns
// the message as this change leaves it; last tells that it is the chat's
// newest message after the batch.
func stampChange(pc *pendingChange, members []string, rev int64, last bool, token string) *chat.Message {
	m := pc.doc
	m.Rev, m.Changes, m.MemberIDs, m.WasLast, m.RevAt, m.ChangeID = rev, m.Changes+1, members, last, time.Time{}, token
	pc.token = token
	out := *m
	return out.toMessage(pc.mid)
}

// writeChanges adds each changed message once, in its state after the
// batch, and marks the messages the batch's replies quote (their edits
// and deletion must refresh the quotes).
func (s *MessageService) writeChanges(b *firestore.WriteBatch, chatID string, changes map[string][]*pendingChange, quoted map[string]bool, pre *batchRead) {
	for _, mid := range slices.Sorted(maps.Keys(changes)) {
		pcs := changes[mid]
		doc := pcs[len(pcs)-1].doc
		doc.Quoted = doc.Quoted || quoted[mid]
		// Members are told the chat's summary again only for what a
		// summary shows: an edit or a deletion, not a reaction.
		doc.WasLast = doc.WasLast && slices.ContainsFunc(pcs, func(pc *pendingChange) bool { return pc.requote })
		s.writeChanged(b, chatID, doc, pcs)
	}
	for _, mid := range slices.Sorted(maps.Keys(quoted)) {
		if m := pre.messages[mid]; changes[mid] == nil && m != nil && !m.Quoted {
			b.Update(s.db.messages(chatID).Doc(mid), []firestore.Update{{Path: "quoted", Value: true}})
		}
	}
}

// writeChanged adds a changed message, in its state after the batch, to b,
// and the to-do of an attachment a deletion removes.
func (s *MessageService) writeChanged(b *firestore.WriteBatch, chatID string, m *messageDoc, pcs []*pendingChange) {
	ups := []firestore.Update{
		{Path: "content", Value: m.Content}, {Path: "fileUrl", Value: m.FileURL}, {Path: "fileName", Value: m.FileName},
		{Path: "editedAt", Value: m.EditedAt}, {Path: "deletedAt", Value: m.DeletedAt}, {Path: "changes", Value: m.Changes},
		{Path: "memberIds", Value: m.MemberIDs}, {Path: "wasLast", Value: m.WasLast}, {Path: "rev", Value: m.Rev},
		{Path: "revAt", Value: firestore.ServerTimestamp}, {Path: "changeId", Value: m.ChangeID},
		{Path: "mentions", Value: m.Mentions}, {Path: "reactions", Value: m.Reactions}, {Path: "replyTo", Value: m.ReplyTo},
		{Path: "quoted", Value: m.Quoted},
	}
	if m.SenderUsername == chat.DeletedUsername {
		// Only ever to that name: a change that read the old one must not
		// undo a deleted account's rename done beside it (accountjob.go).
		ups = append(ups, firestore.Update{Path: "senderUsername", Value: m.SenderUsername})
	}
	b.Update(s.db.messages(chatID).Doc(m.ID), ups)
	for _, pc := range pcs {
		if pc.requote && m.Quoted {
			b.Set(s.db.quoteRefreshRef(chatID, m.ID), quoteRefreshDoc{ChatID: chatID, MessageID: m.ID, At: s.db.now()})
			break
		}
	}
	for _, pc := range pcs {
		if pc.fileID != "" {
			pc.todo = s.db.uploadRef(pc.fileID)
			b.Set(pc.todo, uploadDoc{ChatID: chatID, Bucket: s.files.Bucket(), Object: chat.FileObject(chatID, pc.fileID), At: s.db.now(), Abandoned: true})
		}
	}
}

// landed tells whether the failed commit of a batch whose first item is
// p (tried as m) was applied after all: a send's message exists (its id
// is the attempt's own), a change's message carries the attempt's token.
func (s *MessageService) landed(ctx context.Context, chatID string, p *pendingSend, m *chat.Message) (bool, error) {
	doc, _, err := getDoc[messageDoc](ctx, nil, s.db.messages(chatID).Doc(m.ID))
	if err != nil || doc == nil {
		return false, err
	}
	return p.change == nil || doc.ChangeID == p.change.token, nil
}
