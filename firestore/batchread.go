package firestore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// The read half of a batch: what one round trip brings (the chat, the
// senders' profiles, the idempotency keys, the messages changed or
// quoted), and the sends and changes settled against it before the write.

// batchRead is what a batch needs, read in one round trip: the chat and
// its version, the senders' names, and which clientMessageIds were used.
type batchRead struct {
	chat      *chatDoc
	version   time.Time
	usernames map[string]string      // by uid; absent without a profile
	keyExists map[string]bool        // by key path
	messages  map[string]*messageDoc // the messages to change, by id; absent if none
	// push is the chat's push to-do (nil: none yet) and its version, read
	// when pushes are on; pushDue, the due this batch's write set.
	push        *pushDoc
	pushVersion time.Time
	pushDue     *time.Time
}

// readBatch reads the chat, the senders' profiles and the idempotency keys
// in one BatchGetDocuments: a send's latency is its round trips.
func (s *MessageService) readBatch(ctx context.Context, chatID string, batch []*pendingSend) (*batchRead, error) {
	refs, isUser := s.batchRefs(chatID, batch)
	snaps, err := s.db.client.GetAll(ctx, refs)
	if err != nil {
		return nil, err
	}
	if !snaps[0].Exists() {
		return nil, errChatNotFound()
	}
	out := &batchRead{chat: &chatDoc{}, version: snaps[0].UpdateTime, usernames: map[string]string{},
		keyExists: map[string]bool{}, messages: map[string]*messageDoc{}}
	if err := snaps[0].DataTo(out.chat); err != nil {
		return nil, err
	}
	for i, snap := range snaps {
		switch {
		case i == 0 || !snap.Exists():
		case snap.Ref.Parent.ID == "pushes":
			out.push, out.pushVersion = &pushDoc{}, snap.UpdateTime
			if err := snap.DataTo(out.push); err != nil {
				return nil, err
			}
		case isUser[i]:
			out.usernames[snap.Ref.ID] = toUser(snap, snap.Ref.ID).Username
		case snap.Ref.Parent.ID == "messages":
			var m messageDoc
			if err := snap.DataTo(&m); err != nil {
				return nil, err
			}
			out.messages[snap.Ref.ID] = &m
		default:
			out.keyExists[snap.Ref.Path] = true
		}
	}
	return out, nil
}

// batchRefs lists what a batch reads: the chat, the messages its changes
// and replies name, its senders' profiles (isUser), its keys, and the
// chat's push to-do (which the batch writes) when pushes are on.
func (s *MessageService) batchRefs(chatID string, batch []*pendingSend) ([]*firestore.DocumentRef, []bool) {
	refs := []*firestore.DocumentRef{s.db.chatRef(chatID)}
	isUser := []bool{false}
	seen := map[string]bool{}
	for _, p := range batch {
		mid := p.in.ReplyToID
		if p.change != nil {
			mid = p.change.mid
		}
		if mid != "" && !seen["message/"+mid] {
			seen["message/"+mid] = true
			refs, isUser = append(refs, s.db.messages(chatID).Doc(mid)), append(isUser, false)
		}
		if p.change != nil {
			continue
		}
		if !seen[p.id.UID] {
			seen[p.id.UID] = true
			refs, isUser = append(refs, s.db.userRef(p.id.UID)), append(isUser, true)
		}
		if p.keyRef != nil {
			refs, isUser = append(refs, p.keyRef), append(isUser, false)
		}
	}
	if s.push != nil {
		refs, isUser = append(refs, s.db.pushRef(chatID)), append(isUser, false)
	}
	return refs, isUser
}

// settle answers the sends that need no write: a sender who is not a
// member, and a clientMessageId already used (its first message). It
// returns the rest.
func (s *MessageService) settle(ctx context.Context, chatID string, batch []*pendingSend, pre *batchRead) []*pendingSend {
	return slices.DeleteFunc(batch, func(p *pendingSend) bool {
		switch {
		case p.change != nil && p.change.system:
			return p.change.settle(p, pre)
		case !slices.Contains(pre.chat.MemberIDs, p.id.UID), slices.Contains(pre.chat.DeletedUsers, p.id.UID):
			p.answer(nil, false, errChatNotFound())
		case p.change != nil:
			return p.change.settle(p, pre)
		case p.keyRef != nil && pre.keyExists[p.keyRef.Path]:
			s.answerByKey(ctx, chatID, p)
		default:
			return settleSend(p, pre)
		}
		return true
	})
}

// settleSend checks a send against the chat as the batch read it: not a
// direct chat under a block, the message it quotes (of this chat, not
// deleted) and the members it mentions. It answers a refused send and returns true.
func settleSend(p *pendingSend, pre *batchRead) bool {
	p.quote, p.mentions = nil, nil
	if pre.chat.blocked() {
		p.answer(nil, false, chat.ErrBlocked())
		return true
	}
	if id := p.in.ReplyToID; id != "" {
		q := pre.messages[id]
		if q == nil || q.DeletedAt != nil {
			p.answer(nil, false, chat.Errorf(chat.EINVALID, "replyToId must name a message of this chat that is not deleted."))
			return true
		}
		m := q.toMessage(id)
		chat.MaskDeleted([]*chat.Message{m}, pre.chat.DeletedUsers)
		p.quote = chat.QuoteOf(m)
	}
	mentions, err := chat.ValidateMentions(p.in.Mentions)
	if err == nil {
		err = checkMentions(pre.chat, mentions)
	}
	if err != nil {
		p.answer(nil, false, err)
		return true
	}
	p.mentions = mentions
	return false
}

// answerByKey answers p with the message its clientMessageId was first
// sent with (the key exists: read before, or a commit found it).
func (s *MessageService) answerByKey(ctx context.Context, chatID string, p *pendingSend) {
	m, err := s.byKey(ctx, chatID, p.id.UID, p.keyRef)
	if m == nil && err == nil {
		err = fmt.Errorf("idempotency key %s exists without its message", p.keyRef.ID)
	}
	p.answer(m, p.serverKey && m != nil, translate(err))
}
