package handlers

import (
	"mime"
	"net/http"
	"net/url"

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
	return c.JSON(http.StatusOK, map[string]any{"messages": toMessagesJSON(msgs, viewer(c)), key: nullable(next)})
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
		Content         *string  `json:"content"`
		ClientMessageID *string  `json:"clientMessageId"`
		ReplyToID       *string  `json:"replyToId"`
		Mentions        []string `json:"mentions"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	in := chat.MessageCreate{Mentions: body.Mentions}
	if body.ReplyToID != nil {
		in.ReplyToID = *body.ReplyToID
	}
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
	return c.JSON(status, toMessageJSON(msg, viewer(c)))
}

func (s *Server) editMessage(c echo.Context) error {
	id, mid, err := messagePath(c)
	if err != nil {
		return err
	}
	var body struct {
		Content  *string   `json:"content"`
		Mentions *[]string `json:"mentions"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Content == nil {
		return chat.Errorf(chat.EINVALID, "content is required.")
	}
	e := chat.MessageEdit{Content: *body.Content}
	if body.Mentions != nil {
		e.Mentions = append([]string{}, *body.Mentions...)
	}
	msg, err := s.svc.Messages.EditMessage(c.Request().Context(), id, mid, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMessageJSON(msg, viewer(c)))
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

func (s *Server) getMessage(c echo.Context) error {
	id, mid, err := messagePath(c)
	if err != nil {
		return err
	}
	msg, err := s.svc.Messages.GetMessage(c.Request().Context(), id, mid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMessageJSON(msg, viewer(c)))
}

// react is PUT (on) and DELETE of /chats/:id/messages/:mid/reactions/:emoji.
func (s *Server) react(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, mid, err := messagePath(c)
		if err != nil {
			return err
		}
		e, err := url.PathUnescape(c.Param("emoji"))
		if err != nil {
			return chat.Errorf(chat.EINVALID, "The emoji is not a valid path segment.")
		}
		if err := s.svc.Messages.React(c.Request().Context(), id, mid, e, on); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// viewer is the caller, for whom answers are rendered (a reaction's me).
func viewer(c echo.Context) string {
	id, _ := chat.IdentityFromContext(c.Request().Context())
	return id.UID
}
