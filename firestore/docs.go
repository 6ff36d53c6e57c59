package firestore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// The documents of the data model; docs/design.md explains each.

// chatDoc is chats/{chatId}.
type chatDoc struct {
	IsGroup    bool                 `firestore:"isGroup"`
	Name       string               `firestore:"name"`
	ProfilePic string               `firestore:"profilePic"`
	CreatedAt  time.Time            `firestore:"createdAt"`
	CreatorID  string               `firestore:"creatorId"`
	MemberIDs  []string             `firestore:"memberIds"`
	Joined     map[string]time.Time `firestore:"joined"`
	// LastSeq is the seq of the newest message: a member's unread count is
	// LastSeq - member.ReadSeq, exact because both move atomically with
	// the messages (conditional batch on send, transaction on read).
	LastSeq     int64       `firestore:"lastSeq"`
	LastMessage *messageDoc `firestore:"lastMessage"`
	// LastRev is the rev of the chat's last change to its messages (see
	// revOf); every change commits conditional on the chat's version, so
	// revs follow the commits.
	LastRev    int64     `firestore:"lastRev"`
	ActivityAt time.Time `firestore:"activityAt"`
	// MetaVersion changes with name, picture, members or creator; it is
	// copied to every member document so their listeners see the change.
	MetaVersion int64  `firestore:"metaVersion"`
	DirectKey   string `firestore:"directKey"`
	// MetaTokens and MetaAt are the chat's bucket of meta changes (see
	// spendMeta) as of MetaAt; a chat that never changed has a full one.
	MetaTokens float64   `firestore:"metaTokens"`
	MetaAt     time.Time `firestore:"metaAt"`
	// BlockedBy, on a direct chat, are its members who block the other:
	// written in the block's transaction, so a send batch (which reads
	// and commits conditional on this document) sees a block from its 204
	// at no read of its own.
	BlockedBy []string `firestore:"blockedBy,omitempty"`
	// DeletedUsers are accounts deleted while in the chat whose messages
	// may still carry their old name: every read masks them
	// (chat.MaskDeleted), and a send batch refuses them, until the
	// account's background job has renamed their messages (then a group
	// drops them; a direct chat keeps them, as it keeps the member).
	DeletedUsers []string `firestore:"deletedUsers,omitempty"`
}

// blocked tells whether the chat is a direct chat one of whose members
// blocks the other: no send, edit or reaction goes in.
func (d *chatDoc) blocked() bool { return !d.IsGroup && len(d.BlockedBy) > 0 }

// metaRate and metaBurst bound how often a chat's name, picture and
// members change: each change writes every member's document and sends
// every open view the whole chat, so the contract allows 1 a second per
// chat in bursts of 10.
const (
	metaRate  = 1.0
	metaBurst = 10.0
)

// spendMeta takes one change from the chat's bucket. The bucket lives in
// the chat document, which every such change reads and writes in its
// transaction anyway: the limit holds across instances at no extra cost.
// A member leaving is never refused (must): it is counted, never waits.
func (d *chatDoc) spendMeta(now time.Time, must bool) error {
	tokens := metaBurst
	if !d.MetaAt.IsZero() {
		tokens = min(metaBurst, d.MetaTokens+max(0, now.Sub(d.MetaAt).Seconds())*metaRate)
	}
	if tokens < 1 && !must {
		return chat.Errorf(chat.ERATELIMITED, "This chat is changing too often; retry in a second.")
	}
	d.MetaTokens, d.MetaAt = max(0, tokens-1), now
	return nil
}

// memberDoc is chats/{chatId}/members/{uid}.
type memberDoc struct {
	UserID      string    `firestore:"userId"`
	ChatID      string    `firestore:"chatId"`
	JoinedAt    time.Time `firestore:"joinedAt"`
	ReadSeq     int64     `firestore:"readSeq"`
	MetaVersion int64     `firestore:"metaVersion"`
	// LastReadID and LastReadAt are the read marker as the contract shows
	// it: the chat's newest message when the member last read it or sent.
	LastReadID string     `firestore:"lastReadId,omitempty"`
	LastReadAt *time.Time `firestore:"lastReadAt"`
	// ReceiptAt is set (server time) by a read that others may see: the
	// room listeners select on it, so a send moving the sender's marker,
	// or a read by a member hiding receipts, is no messagesRead.
	// ReceiptExcept are the members who must not see it (blocks).
	ReceiptAt     *time.Time `firestore:"receiptAt,omitempty"`
	ReceiptExcept []string   `firestore:"receiptExcept,omitempty"`
	// MutedUntil is the member's mute of the chat; it goes with the
	// membership when they leave.
	MutedUntil *time.Time `firestore:"mutedUntil"`
}

// messageDoc is chats/{chatId}/messages/{messageId}. MemberIDs are the
// chat's members when it was sent: the listeners of exactly those users'
// instances receive it.
type messageDoc struct {
	// ID is set only on the copy kept as chatDoc.LastMessage.
	ID              string    `firestore:"id,omitempty"`
	ChatID          string    `firestore:"chatId"`
	Seq             int64     `firestore:"seq"`
	SenderID        string    `firestore:"senderId"`
	SenderUsername  string    `firestore:"senderUsername"`
	Content         string    `firestore:"content"`
	FileURL         string    `firestore:"fileUrl"`
	FileName        string    `firestore:"fileName"`
	CreatedAt       time.Time `firestore:"createdAt"`
	ClientMessageID string    `firestore:"clientMessageId"`
	MemberIDs       []string  `firestore:"memberIds,omitempty"`
	// Rev is the chat's rev of the message's last change: a send, an edit
	// or a deletion. ChangedAfter selects on it.
	Rev int64 `firestore:"rev"`
	// RevAt is when the last change was made, by the server's clock (a
	// zero value becomes the request's timestamp): listeners select on it,
	// with a margin.
	RevAt     time.Time  `firestore:"revAt,serverTimestamp"`
	EditedAt  *time.Time `firestore:"editedAt"`
	DeletedAt *time.Time `firestore:"deletedAt"`
	// Changes counts edits and deletions: a message with changes is news
	// to its members as messageUpdated, not newMessage.
	Changes int64 `firestore:"changes"`
	// WasLast tells that the message was its chat's newest when it was
	// last edited or deleted: members get chatSummary again with it.
	WasLast bool `firestore:"wasLast,omitempty"`
	// ChangeID identifies the attempt that wrote the last change.
	ChangeID string `firestore:"changeId,omitempty"`
	// ReplyTo is the quote a reply carries, refreshed (without a rev) when
	// the quoted message changes; Quoted marks a message that some reply
	// quotes, so that its edits and deletion refresh them.
	ReplyTo   *quoteDoc     `firestore:"replyTo"`
	Quoted    bool          `firestore:"quoted,omitempty"`
	Mentions  []string      `firestore:"mentions"`
	Reactions []reactionDoc `firestore:"reactions"`
}

// quoteDoc is chat.Quote as stored in a reply.
type quoteDoc struct {
	ID       string `firestore:"id"`
	SenderID string `firestore:"senderId"`
	Username string `firestore:"username"`
	Content  string `firestore:"content"`
	FileName string `firestore:"fileName"`
	Deleted  bool   `firestore:"deleted"`
}

// reactionDoc is one emoji on a message and everyone who reacted with
// it, in order: a group has at most 256 members, so the list is bounded.
type reactionDoc struct {
	Emoji   string   `firestore:"emoji"`
	UserIDs []string `firestore:"userIds"`
}

// typingDoc is chats/{chatId}/typing/{uid}: present while the user types.
type typingDoc struct {
	ChatID   string    `firestore:"chatId"`
	UserID   string    `firestore:"userId"`
	Username string    `firestore:"username"`
	Until    time.Time `firestore:"until"`
	// Except are the members in a block with the typist.
	Except []string `firestore:"except,omitempty"`
}

func (db *DB) chatRef(id string) *firestore.DocumentRef { return db.client.Collection("chats").Doc(id) }

func (db *DB) userRef(uid string) *firestore.DocumentRef {
	return db.client.Collection("users").Doc(uid)
}

func (db *DB) memberRef(chatID, uid string) *firestore.DocumentRef {
	return db.chatRef(chatID).Collection("members").Doc(uid)
}

func (db *DB) messages(chatID string) *firestore.CollectionRef {
	return db.chatRef(chatID).Collection("messages")
}

// clientIDRef is the idempotency key of a sender's clientMessageId in a
// chat; creating it (must not exist) in the send's batch makes a retried
// send a no-op.
func (db *DB) clientIDRef(chatID, senderID, clientMessageID string) *firestore.DocumentRef {
	return db.chatRef(chatID).Collection("clientIds").Doc(hashKey(senderID, clientMessageID))
}

// serverKeyRef is the idempotency key the server makes for a send without
// a clientMessageId, random per request: it guards the retries of that
// request's batch only, so it expires (serverKeyTTL). The NUL in its first
// part keeps it apart from every client's key (uids hold none).
func (db *DB) serverKeyRef(chatID, senderID, random string) *firestore.DocumentRef {
	return db.chatRef(chatID).Collection("clientIds").Doc(hashKey("\x00server", senderID, random))
}

// serverKeyTTL is how long a server-made key is kept (Firestore's TTL
// policy on clientIds.expireAt removes it): far longer than a batch lives.
const serverKeyTTL = 24 * time.Hour

// directRef is the one document per pair of users that makes a direct
// chat unique: created with a must-not-exist precondition.
func (db *DB) directRef(a, b string) *firestore.DocumentRef {
	if b < a {
		a, b = b, a
	}
	return db.client.Collection("directChats").Doc(hashKey(a, b))
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// messageID makes a message id whose order is its seq's: ids sort like
// (createdAt, id) because createdAt never decreases with seq.
func messageID(seq int64, random string) string { return fmt.Sprintf("%012d%s", seq, random) }

// seqOf parses the seq of a message id from a client.
func seqOf(id string) (int64, error) {
	if len(id) < 12 || len(id) > chat.MaxIDLen {
		return 0, chat.Errorf(chat.EINVALID, "%q is not a message id.", id)
	}
	n, err := strconv.ParseInt(id[:12], 10, 64)
	if err != nil || n < 1 {
		return 0, chat.Errorf(chat.EINVALID, "%q is not a message id.", id)
	}
	return n, nil
}

func (m *messageDoc) toMessage(id string) *chat.Message {
	rev := m.Rev
	if rev == 0 {
		rev = m.Seq // stored before revs existed: see chatDoc.nextRev
	}
	out := &chat.Message{
		ID: id, ChatID: m.ChatID, SenderID: m.SenderID, SenderUsername: m.SenderUsername,
		Content: m.Content, FileURL: m.FileURL, FileName: m.FileName, CreatedAt: m.CreatedAt.UTC(),
		ClientMessageID: m.ClientMessageID, Seq: m.Seq, EditedAt: utc(m.EditedAt), DeletedAt: utc(m.DeletedAt),
		Rev: revOf(rev), Mentions: m.Mentions,
	}
	if q := m.ReplyTo; q != nil {
		out.ReplyTo = &chat.Quote{ID: q.ID, SenderID: q.SenderID, Username: q.Username, Content: q.Content, FileName: q.FileName, Deleted: q.Deleted}
	}
	for _, r := range m.Reactions {
		out.Reactions = append(out.Reactions, chat.Reaction{Emoji: r.Emoji, UserIDs: r.UserIDs})
	}
	return out
}

// toQuoteDoc stores a quote.
func toQuoteDoc(q *chat.Quote) *quoteDoc {
	return &quoteDoc{ID: q.ID, SenderID: q.SenderID, Username: q.Username, Content: q.Content, FileName: q.FileName, Deleted: q.Deleted}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nextRev is the rev the chat's next change takes. A chat from before
// revs existed starts past its lastSeq: its messages read as rev = seq.
func (d *chatDoc) nextRev() int64 { return max(d.LastRev, d.LastSeq) + 1 }

// revOf renders a chat's rev number as the contract's rev: 16 hex
// digits, so that byte order is number order.
func revOf(n int64) chat.Rev { return chat.Rev(fmt.Sprintf("%016x", n)) }

// parseRev reads a rev from a client.
func parseRev(r chat.Rev) (int64, error) {
	n, err := strconv.ParseInt(string(r), 16, 64)
	if len(r) != 16 || err != nil || n < 0 {
		return 0, chat.Errorf(chat.EINVALID, "%q is not a rev.", r)
	}
	return n, nil
}

// lastMessage returns the chat's newest message, nil when it has none.
func lastMessage(doc *chatDoc) *chat.Message {
	if doc.LastMessage == nil {
		return nil
	}
	return doc.LastMessage.toMessage(doc.LastMessage.ID)
}

// sortedUsers orders a chat's members by join time, then id.
func sortedUsers(doc *chatDoc) []string {
	ids := append([]string(nil), doc.MemberIDs...)
	sort.Slice(ids, func(i, j int) bool {
		ti, tj := doc.Joined[ids[i]], doc.Joined[ids[j]]
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return ids[i] < ids[j]
	})
	return ids
}
