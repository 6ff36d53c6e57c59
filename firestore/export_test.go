package firestore

import "context"

// The cursor decoders are unexported: the services are their only callers.
// These let the external fuzz tests drive them.

var (
	ParseChatCursor = parseChatCursor
	SeqOf           = seqOf
	ChatCursor      = chatCursor
)

// DeleteWithoutPurge deletes a chat as DeleteChat does and stops there, as
// a crash right after the delete's commit would.
func (s *ChatService) DeleteWithoutPurge(ctx context.Context, chatID string) error {
	return s.deleteChat(ctx, chatID)
}
