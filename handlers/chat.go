package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

func (s *Server) findChats(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	chats, next, err := s.svc.Chats.FindChats(c.Request().Context(), chat.ChatFilter{Limit: limit, Before: c.QueryParam("before")})
	if err != nil {
		return err
	}
	out := make([]chatJSON, 0, len(chats))
	for _, ch := range chats {
		out = append(out, toChatJSON(ch, viewer(c)))
	}
	return c.JSON(http.StatusOK, map[string]any{"chats": out, "nextBefore": nullable(next)})
}

func (s *Server) createChat(c echo.Context) error {
	var body struct {
		UserIDs    *[]string `json:"userIds"`
		IsGroup    *bool     `json:"isGroup"`
		Name       *string   `json:"name"`
		ProfilePic *string   `json:"profilePic"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	if body.UserIDs == nil {
		return chat.Errorf(chat.EINVALID, "userIds is required.")
	}
	in := chat.ChatCreate{UserIDs: *body.UserIDs}
	if body.IsGroup != nil {
		in.IsGroup = *body.IsGroup
	}
	if body.Name != nil {
		in.Name = *body.Name
	}
	if body.ProfilePic != nil {
		in.ProfilePic = *body.ProfilePic
	}
	ch, created, err := s.svc.Chats.CreateChat(c.Request().Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, toChatJSON(ch, viewer(c)))
}

func (s *Server) getChat(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	ch, err := s.svc.Chats.FindChat(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toChatJSON(ch, viewer(c)))
}

func (s *Server) patchChat(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	var body struct {
		Name       *string `json:"name"`
		ProfilePic *string `json:"profilePic"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	ch, err := s.svc.Chats.UpdateChat(c.Request().Context(), id, chat.ChatUpdate{Name: body.Name, ProfilePic: body.ProfilePic})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toChatJSON(ch, viewer(c)))
}

func (s *Server) deleteChat(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	if err := s.svc.Chats.DeleteChat(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) addMembers(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	var body struct {
		UserIDs *[]string `json:"userIds"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	if body.UserIDs == nil {
		return chat.Errorf(chat.EINVALID, "userIds is required.")
	}
	ch, err := s.svc.Chats.AddMembers(c.Request().Context(), id, *body.UserIDs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toChatJSON(ch, viewer(c)))
}

func (s *Server) removeMember(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	uid, err := pathID(c, "uid", "User id")
	if err != nil {
		return err
	}
	if err := s.svc.Chats.RemoveMember(c.Request().Context(), id, uid); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) markRead(c echo.Context) error {
	id, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	if err := s.svc.Chats.MarkRead(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// mute is PUT (on: until the body's time) and DELETE of /chats/:id/mute.
func (s *Server) mute(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id", "Chat id")
		if err != nil {
			return err
		}
		var until time.Time
		if on {
			var body struct {
				Until *string `json:"until"`
			}
			if err := s.decodeJSON(c, &body); err != nil {
				return err
			}
			if body.Until == nil {
				return chat.Errorf(chat.EINVALID, "until is required: a time, or 9999-12-31T23:59:59.999Z to mute until unmuted.")
			}
			if until, err = time.Parse(time.RFC3339Nano, *body.Until); err != nil {
				return chat.Errorf(chat.EINVALID, "until must be an RFC 3339 time.")
			}
		}
		if err := s.svc.Chats.MuteChat(c.Request().Context(), id, until); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// nullable renders an empty cursor as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
