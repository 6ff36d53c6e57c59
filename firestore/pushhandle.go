package firestore

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	gax "github.com/googleapis/gax-go/v2"

	"github.com/chatapp/chat"
)

// handle takes the chat's to-do under a lease, pushes what is owed and
// records it. Nothing to do (not due, held by another, handled) is no
// error.
func (p *Pusher) handle(ctx context.Context, chatID string) error {
	todo, leased, err := p.lease(ctx, chatID)
	if err != nil || todo == nil {
		return err
	}
	now := p.db.now()
	c, _, err := getDoc[chatDoc](ctx, nil, p.db.chatRef(chatID))
	if err != nil {
		return err
	}
	if c == nil { // the chat is gone: nothing is owed
		_, err := p.db.pushRef(chatID).Delete(ctx, firestore.LastUpdateTime(leased))
		return ignorePrecondition(err)
	}
	members, err := p.db.memberDocs(ctx, map[string]*chatDoc{chatID: c})
	if err != nil {
		return err
	}
	owed, next := p.owed(c, members[chatID], todo, now)
	sent, later, err := p.send(ctx, chatID, c, owed)
	if err != nil {
		return err
	}
	if later && (next.IsZero() || now.Add(pushRetryAfter).Before(next)) {
		next = now.Add(pushRetryAfter)
	}
	due, err := p.record(ctx, chatID, c.LastSeq, sent, next, now)
	if err == nil && due != nil {
		p.schedule(chatID, *due)
	}
	return err
}

// pushRetryAfter is when devices FCM could not take (quota, unavailable)
// are tried again, after one quick retry failed.
const pushRetryAfter = 30 * time.Second

// lease reads the to-do and, when it is due and free, takes it: an update
// conditional on the version read, so of two sweepers one wins. It
// returns nil when there is nothing for this instance to do.
func (p *Pusher) lease(ctx context.Context, chatID string) (*pushDoc, time.Time, error) {
	todo, snap, err := getDoc[pushDoc](ctx, nil, p.db.pushRef(chatID))
	now := p.db.now()
	switch {
	case err != nil || todo == nil || todo.Due == nil:
		return nil, time.Time{}, err
	case todo.Due.After(now):
		p.schedule(chatID, *todo.Due) // not yet: a read within the delay may still cancel it
		return nil, time.Time{}, nil
	case todo.LeaseUntil != nil && todo.LeaseUntil.After(now) && todo.LeaseOwner != p.opts.Owner:
		return nil, time.Time{}, nil
	}
	wr, err := p.db.pushRef(chatID).Update(ctx, []firestore.Update{{Path: "leaseOwner", Value: p.opts.Owner},
		{Path: "leaseUntil", Value: now.Add(pushLease)}}, firestore.LastUpdateTime(snap.UpdateTime))
	if err != nil {
		return nil, time.Time{}, ignorePrecondition(err)
	}
	return todo, wr.UpdateTime, nil
}

// owed decides who is pushed the chat's newest message now: members who
// have not read it (their marker is behind; a member's own send moves
// it), were not pushed it, and do not mute the chat (unless it mentions
// them); nobody in a direct chat under a block, nobody for a deleted
// message. A member pushed less than chat.PushEvery ago waits: next is
// when (zero: nobody waits).
func (p *Pusher) owed(c *chatDoc, members map[string]*memberDoc, todo *pushDoc, now time.Time) (owed []string, next time.Time) {
	last := c.LastMessage
	if last == nil || last.DeletedAt != nil || c.blocked() {
		return nil, time.Time{}
	}
	for _, uid := range c.MemberIDs {
		m := members[uid]
		pushed := todo.Pushed[uid]
		switch {
		case m == nil, uid == last.SenderID, m.ReadSeq >= c.LastSeq, pushed.Seq >= c.LastSeq:
		case chat.MuteValue(m.MutedUntil, now) != nil && !slices.Contains(last.Mentions, uid):
		case now.Sub(pushed.At) < chat.PushEvery:
			if at := pushed.At.Add(chat.PushEvery); next.IsZero() || at.Before(next) {
				next = at
			}
		default:
			owed = append(owed, uid)
		}
	}
	return owed, next
}

// send pushes the chat's newest message to every device of the owed
// members and returns who got it on some device. Devices FCM calls gone
// are forgotten; a failure worth a retry is retried once at once, then
// (later) when the to-do comes due again.
func (p *Pusher) send(ctx context.Context, chatID string, c *chatDoc, owed []string) (sent []string, later bool, err error) {
	if len(owed) == 0 {
		return nil, false, nil
	}
	refs := make([]*firestore.DocumentRef, len(owed))
	for i, uid := range owed {
		refs[i] = p.db.devicesRef(uid)
	}
	msg := c.LastMessage.toMessage(c.LastMessage.ID)
	chat.MaskDeleted([]*chat.Message{msg}, c.DeletedUsers)
	title, body := chat.PushText(&chat.Chat{IsGroup: c.IsGroup, Name: c.Name}, msg)
	type target struct{ uid, device string }
	var ns []chat.Notification
	var to []target
	err = p.db.getEach(ctx, refs, func(snap *firestore.DocumentSnapshot) {
		var d devicesDoc
		if snap.DataTo(&d) == nil {
			for id, dv := range d.Devices { // devices/{uid}
				ns = append(ns, chat.Notification{Token: dv.Token, Title: title, Body: body, ChatID: chatID, MessageID: msg.ID, Link: p.link(chatID)})
				to = append(to, target{snap.Ref.ID, id})
			}
		}
	})
	if err != nil {
		return nil, false, err
	}
	outcomes := p.sender.Push(ctx, ns)
	if retry := toRetry(outcomes); len(retry) > 0 {
		_ = gax.Sleep(ctx, time.Second)
		again := make([]chat.Notification, len(retry))
		for j, i := range retry {
			again[j] = ns[i]
		}
		for j, o := range p.sender.Push(ctx, again) {
			outcomes[retry[j]] = o
		}
	}
	got := map[string]bool{}
	for i, o := range outcomes {
		switch o {
		case chat.PushRetry:
			later = true
		case chat.PushSent:
			got[to[i].uid] = true
		case chat.PushGone:
			if err := p.db.forgetDevice(ctx, to[i].uid, to[i].device, ns[i].Token); err != nil {
				p.db.Log.Warn("forgetting a device FCM called gone failed", "user", to[i].uid, "device", to[i].device, "err", err.Error())
			}
		}
	}
	p.db.Log.Info("push sent", "chat", chatID, "message", msg.ID, "members", len(owed), "devices", len(ns), "delivered", len(got))
	return slices.DeleteFunc(owed, func(uid string) bool { return !got[uid] }), later, nil
}

func toRetry(outcomes []chat.PushOutcome) []int {
	var out []int
	for i, o := range outcomes {
		if o == chat.PushRetry {
			out = append(out, i)
		}
	}
	return out
}

// record writes what was handled, in a transaction with the batches that
// write the to-do: the seq handled, each pushed member's seq and time,
// the lease released, and what is owed next — messages sent meanwhile
// (their delay counted from now), or members waiting for their turn.
func (p *Pusher) record(ctx context.Context, chatID string, seq int64, sent []string, next, now time.Time) (*time.Time, error) {
	ref := p.db.pushRef(chatID)
	var due *time.Time
	err := p.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		due = nil
		todo, _, err := getDoc[pushDoc](ctx, tx, ref)
		if err != nil || todo == nil {
			return err
		}
		ups := []firestore.Update{{Path: "done", Value: max(todo.Done, seq)}, {Path: "leaseOwner", Value: ""},
			{Path: "leaseUntil", Value: nil}}
		for _, uid := range sent {
			ups = append(ups, firestore.Update{FieldPath: []string{"pushed", uid}, Value: pushedDoc{Seq: seq, At: now}})
		}
		switch {
		case todo.Seq > seq: // sent while this ran: their turn is a delay from now
			at := p.db.now()
			d := at.Add(p.opts.Delay)
			due = &d
			ups = append(ups, firestore.Update{Path: "since", Value: at}, firestore.Update{Path: "due", Value: d})
		case !next.IsZero():
			due = &next
			ups = append(ups, firestore.Update{Path: "due", Value: next})
		default:
			ups = append(ups, firestore.Update{Path: "since", Value: nil}, firestore.Update{Path: "due", Value: nil})
		}
		return tx.Update(ref, ups)
	})
	return due, err
}

// link is the web app's URL of the chat, "" unless WEB_APP_URL is https.
func (p *Pusher) link(chatID string) string {
	if !strings.HasPrefix(p.opts.WebAppURL, "https://") {
		return ""
	}
	return strings.TrimSuffix(p.opts.WebAppURL, "/") + "/?chat=" + url.QueryEscape(chatID)
}

func ignorePrecondition(err error) error {
	if isFailedPrecondition(err) || isNotFound(err) {
		return nil
	}
	return err
}
