package handlers

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

func (s *Server) findMessages(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	f := chat.MessageFilter{Before: c.QueryParam("before"), After: c.QueryParam("after"),
		ChangedAfter: chat.Rev(c.QueryParam("changedAfter")), Limit: limit}
	msgs, next, err := s.svc.Messages.FindMessages(c.Request().Context(), id, f)
	if err != nil {
		return err
	}
	key := "nextBefore"
	switch {
	case f.After != "":
		key = "nextAfter"
	case f.ChangedAfter != "":
		key = "nextChangedAfter"
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": toMessagesJSON(msgs), key: nullable(next)})
}

func (s *Server) sendMessage(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type")); ct == "multipart/form-data" {
		return s.sendMultipart(c, id)
	}
	var body struct {
		Content         *string `json:"content"`
		ClientMessageID *string `json:"clientMessageId"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	var in chat.MessageCreate
	if body.Content != nil {
		in.Content = *body.Content
	}
	if body.ClientMessageID != nil {
		in.ClientMessageID = *body.ClientMessageID
	}
	return s.send(c, id, in)
}

// send sends in and answers 201 with the message, or 200 with the first
// one when the clientMessageId was sent before.
func (s *Server) send(c echo.Context, id string, in chat.MessageCreate) error {
	msg, created, err := s.svc.Messages.SendMessage(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, toMessageJSON(msg))
}

func (s *Server) editMessage(c echo.Context) error {
	id, mid, err := messagePath(c)
	if err != nil {
		return err
	}
	var body struct {
		Content *string `json:"content"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Content == nil {
		return chat.Errorf(chat.EINVALID, "content is required.")
	}
	msg, err := s.svc.Messages.EditMessage(c.Request().Context(), id, mid, chat.MessageEdit{Content: *body.Content})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMessageJSON(msg))
}

func (s *Server) deleteMessage(c echo.Context) error {
	id, mid, err := messagePath(c)
	if err != nil {
		return err
	}
	if err := s.svc.Messages.DeleteMessage(c.Request().Context(), id, mid); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// messagePath reads the chat and message ids of /chats/:id/messages/:mid.
func messagePath(c echo.Context) (string, string, error) {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return "", "", err
	}
	mid, err := pathID(c, "mid", "Message id")
	return id, mid, err
}
