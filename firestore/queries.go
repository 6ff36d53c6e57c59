package firestore

import "cloud.google.com/go/firestore"

// Every query this package runs is built here from a QueryShape, the part
// of a query Firestore needs an index for. The emulator enforces no index,
// so a missing one would fail only in production: deploy's tests derive
// the indexes each shape needs and hold deploy/firestore.indexes.json to
// them, and an AST test proves no query is built anywhere else.

// QueryShape is a query's structure: the collection (or collection group),
// its filters in order and its sort orders. Filter values are given when
// the query is built.
type QueryShape struct {
	Name       string
	Group      bool // a collection-group query
	Collection string
	Filters    []QueryFilter
	Orders     []QueryOrder
}

// QueryFilter is one filter of a shape: field and operator.
type QueryFilter struct{ Field, Op string }

// QueryOrder is one sort order of a shape.
type QueryOrder struct {
	Field string
	Desc  bool
}

// The queries of this package.
var (
	qChatsOfUser = &QueryShape{Name: "chats of a user, most recent first", Collection: "chats",
		Filters: []QueryFilter{{"memberIds", "array-contains"}},
		Orders:  []QueryOrder{{"activityAt", true}, {firestore.DocumentID, true}}}
	qUsernamesWithPrefix = &QueryShape{Name: "usernames with a prefix", Collection: "users",
		Filters: []QueryFilter{{"usernameLower", ">="}, {"usernameLower", "<"}}}
	qUsersBlocking = &QueryShape{Name: "users who block a user", Collection: "users",
		Filters: []QueryFilter{{"blocks", "array-contains"}}}
	qReceiptsInChats = &QueryShape{Name: "listener: read receipts in chats since", Group: true, Collection: "members",
		Filters: []QueryFilter{{"chatId", "in"}, {"receiptAt", ">"}},
		Orders:  []QueryOrder{{"receiptAt", false}}}
	qUsersByName = &QueryShape{Name: "users by name", Collection: "users",
		Orders: []QueryOrder{{"usernameLower", false}}}
	qUsersByPrefix = &QueryShape{Name: "users by name prefix", Collection: "users",
		Filters: []QueryFilter{{"usernameLower", ">="}, {"usernameLower", "<"}},
		Orders:  []QueryOrder{{"usernameLower", false}}}
	qMembershipsOfUsers = &QueryShape{Name: "listener: memberships of users", Group: true, Collection: "members",
		Filters: []QueryFilter{{"userId", "in"}}}
	qMessagesToUsers = &QueryShape{Name: "listener: messages to users changed since", Group: true, Collection: "messages",
		Filters: []QueryFilter{{"memberIds", "array-contains-any"}, {"revAt", ">"}},
		Orders:  []QueryOrder{{"revAt", false}}}
	qMessagesChangedAfter = &QueryShape{Name: "messages of a chat changed after a rev", Collection: "messages",
		Filters: []QueryFilter{{"rev", ">"}}, Orders: []QueryOrder{{"rev", false}}}
	qTypingInChats = &QueryShape{Name: "listener: typing in chats", Group: true, Collection: "typing",
		Filters: []QueryFilter{{"chatId", "in"}}}
	qMessagesBetween = &QueryShape{Name: "messages of a chat between seqs", Collection: "messages",
		Filters: []QueryFilter{{"seq", ">"}, {"seq", "<"}}, Orders: []QueryOrder{{"seq", false}}}
	qMessagesAfter = &QueryShape{Name: "messages of a chat after a seq", Collection: "messages",
		Filters: []QueryFilter{{"seq", ">"}}, Orders: []QueryOrder{{"seq", false}}}
	qMessagesBefore = &QueryShape{Name: "messages of a chat before a seq", Collection: "messages",
		Filters: []QueryFilter{{"seq", "<"}}, Orders: []QueryOrder{{"seq", true}}}
	qMessagesLatest = &QueryShape{Name: "latest messages of a chat", Collection: "messages",
		Orders: []QueryOrder{{"seq", true}}}
	qRepliesTo = &QueryShape{Name: "replies to a message", Collection: "messages",
		Filters: []QueryFilter{{"replyTo.id", "=="}}, Orders: []QueryOrder{{firestore.DocumentID, false}}}
	qQuoteRefreshesBefore = &QueryShape{Name: "quote refreshes pending since before a time", Collection: "quoteRefreshes",
		Filters: []QueryFilter{{"at", "<"}}}
	qPurgesBefore = &QueryShape{Name: "purges pending since before a time", Collection: "purges",
		Filters: []QueryFilter{{"at", "<"}}}
	qSessionsOfInstance = &QueryShape{Name: "sessions on an instance", Collection: "sessions",
		Filters: []QueryFilter{{"instance", "=="}}, Orders: []QueryOrder{{firestore.DocumentID, false}}}
	qLeasesExpired = &QueryShape{Name: "leases expired before a time", Collection: "leases",
		Filters: []QueryFilter{{"expiresAt", "<"}}}
	qPresenceToUsers = &QueryShape{Name: "listener: presence flips seen by users since", Group: true, Collection: "presence",
		Filters: []QueryFilter{{"audience", "array-contains-any"}, {"at", ">"}},
		Orders:  []QueryOrder{{"at", false}}}
	qMessagesBySender = &QueryShape{Name: "messages of a chat by a sender after a seq", Collection: "messages",
		Filters: []QueryFilter{{"senderId", "=="}, {"seq", ">"}}, Orders: []QueryOrder{{"seq", false}}}
	qPushesDue = &QueryShape{Name: "push to-dos due before a time", Collection: "pushes",
		Filters: []QueryFilter{{"due", "<"}}}
	qMessagesOfSender = &QueryShape{Name: "messages of a sender in every chat", Group: true, Collection: "messages",
		Filters: []QueryFilter{{"senderId", "=="}}, Orders: []QueryOrder{{firestore.DocumentID, false}}}
	qRepliesToSender = &QueryShape{Name: "replies quoting a sender in every chat", Group: true, Collection: "messages",
		Filters: []QueryFilter{{"replyTo.senderId", "=="}}, Orders: []QueryOrder{{firestore.DocumentID, false}}}
	qAccountJobsDue = &QueryShape{Name: "deleted accounts whose clean-up lease lapsed", Collection: "deletedUsers",
		Filters: []QueryFilter{{"leaseUntil", "<"}}}
	qUploadsBefore = &QueryShape{Name: "uploads pending since before a time", Collection: "uploads",
		Filters: []QueryFilter{{"at", "<"}}}
)

// Queries lists every query shape this package runs.
func Queries() []QueryShape {
	var out []QueryShape
	for _, q := range []*QueryShape{qChatsOfUser, qUsernamesWithPrefix, qUsersByName, qUsersByPrefix, qUsersBlocking, qReceiptsInChats,
		qMembershipsOfUsers, qMessagesToUsers, qTypingInChats, qMessagesBetween, qMessagesAfter,
		qMessagesBefore, qMessagesLatest, qMessagesChangedAfter, qRepliesTo, qQuoteRefreshesBefore, qPurgesBefore, qUploadsBefore, qPushesDue, qMessagesBySender,
		qMessagesOfSender, qRepliesToSender, qAccountJobsDue,
		qSessionsOfInstance, qLeasesExpired, qPresenceToUsers} {
		out = append(out, *q)
	}
	return out
}

// query builds a query of shape s with one value per filter, in order.
// parent is the document a collection (not group) query is under; nil for
// a top-level collection.
func (db *DB) query(s *QueryShape, parent *firestore.DocumentRef, values ...any) firestore.Query {
	if len(values) != len(s.Filters) {
		panic("firestore: query " + s.Name + " built with the wrong number of values")
	}
	var q firestore.Query
	switch {
	case s.Group:
		q = db.client.CollectionGroup(s.Collection).Query
	case parent != nil:
		q = parent.Collection(s.Collection).Query
	default:
		q = db.client.Collection(s.Collection).Query
	}
	for i, f := range s.Filters {
		q = q.Where(f.Field, f.Op, values[i])
	}
	for _, o := range s.Orders {
		dir := firestore.Asc
		if o.Desc {
			dir = firestore.Desc
		}
		q = q.OrderBy(o.Field, dir)
	}
	return q
}
