package firestore

import (
	"context"

	"github.com/chatapp/chat"
)

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

// StoreWithoutMessage uploads f for a message that never commits, as a
// crash between the upload and the commit would leave it. It returns the
// object's name.
func (s *MessageService) StoreWithoutMessage(ctx context.Context, chatID string, f *chat.File) (string, error) {
	up, err := s.store(ctx, chatID, f)
	if err != nil {
		return "", err
	}
	return up.object, nil
}
