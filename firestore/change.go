package firestore

import (
	"context"
	"crypto/rand"
	"path"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// An edit or a deletion rewrites the message document in place and takes
// the chat's next rev. It travels the send path: it waits in the chat's
// queue and commits in the chat's next batch, conditional on the chat's
// version like the sends beside it. So every change to a chat's messages
// is ordered by one counter (chatDoc.LastRev) that moves only in commits
// that are themselves ordered by the chat document, and a busy chat's
// changes cost it no write of their own: they share the batch's.
//
// The rewritten message is addressed to the chat's current members
// (memberIds) and has revAt set again, so the listeners, which select
// messages by revAt, see it as a change however old the message is.

// pendingChange is an edit or a deletion waiting in its chat's queue.
type pendingChange struct {
	mid   string
	apply changeFunc
	// Set by settle for the batch's write:
	doc    *messageDoc // the message as it will be stored, ID set
	fileID string      // a deletion's attachment, "" if none
	// token is written with the change (changeId): a commit that failed
	// but landed is known by it. Its rev cannot tell: another instance's
	// batch that read the same chat version took the same rev.
	token string
	// todo is the to-do of fileID's object, written in the commit.
	todo *firestore.DocumentRef
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
	now := s.db.now()
	m, _, err := s.change(ctx, chatID, mid, func(uid string, c *chatDoc, m *messageDoc) (bool, error) {
		switch {
		case m.SenderID != uid:
			return false, chat.Errorf(chat.EFORBIDDEN, "Only its sender may edit a message.")
		case m.DeletedAt != nil:
			return false, chat.Errorf(chat.ECONFLICT, "A deleted message cannot be edited.")
		}
		if err := e.Validate(m.FileURL != ""); err != nil {
			return false, err
		}
		if m.Content == e.Content {
			return false, nil
		}
		m.Content, m.EditedAt = e.Content, &now
		return true, nil
	})
	return m, err
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
		if m.DeletedAt != nil {
			return false, nil
		}
		m.Content, m.FileURL, m.FileName, m.DeletedAt = "", "", "", &now
		return true, nil
	})
	if err != nil || pc.fileID == "" {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := s.giveUp(cctx, &upload{fileID: pc.fileID, object: chat.FileObject(chatID, pc.fileID), todo: pc.todo}); err != nil {
		s.db.Log.Warn("attachment removal failed; the sweeper will finish it", "chat", chatID, "message", mid, "err", err.Error())
	}
	return nil
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

// settle decides a change against what its batch read: it answers the
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
	pc.doc, pc.fileID, pc.todo = &m, "", nil
	if hadFile != "" && m.FileURL == "" {
		pc.fileID = path.Base(hadFile)
	}
	return false
}

// writeChange adds a settled change to b with rev, addressed to the chat's
// members, and returns the message as it will be stored; last tells that
// it is the chat's newest message after the batch.
func (s *MessageService) writeChange(b *firestore.WriteBatch, chatID string, pc *pendingChange, members []string, rev int64, last bool) (*messageDoc, *chat.Message) {
	m := *pc.doc
	m.Rev, m.Changes, m.MemberIDs, m.WasLast, m.RevAt = rev, m.Changes+1, members, last, time.Time{}
	pc.token = rand.Text()[:12]
	b.Update(s.db.messages(chatID).Doc(pc.mid), []firestore.Update{
		{Path: "content", Value: m.Content}, {Path: "fileUrl", Value: m.FileURL}, {Path: "fileName", Value: m.FileName},
		{Path: "editedAt", Value: m.EditedAt}, {Path: "deletedAt", Value: m.DeletedAt}, {Path: "changes", Value: m.Changes},
		{Path: "memberIds", Value: m.MemberIDs}, {Path: "wasLast", Value: m.WasLast}, {Path: "rev", Value: rev},
		{Path: "revAt", Value: firestore.ServerTimestamp}, {Path: "changeId", Value: pc.token},
	})
	if pc.fileID != "" {
		pc.todo = s.db.uploadRef(pc.fileID)
		b.Set(pc.todo, uploadDoc{ChatID: chatID, Bucket: s.files.Bucket(), Object: chat.FileObject(chatID, pc.fileID), At: s.db.now(), Abandoned: true})
	}
	return &m, m.toMessage(pc.mid)
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
