package firestore

// The cursor decoders are unexported: the services are their only callers.
// These let the external fuzz tests drive them.

var (
	ParseChatCursor = parseChatCursor
	SeqOf           = seqOf
	ChatCursor      = chatCursor
)
