package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

func (s *Server) getMe(c echo.Context) error {
	u, err := s.svc.Users.Me(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMeJSON(u))
}

func (s *Server) patchMe(c echo.Context) error {
	var body struct {
		Username     *string `json:"username"`
		ProfilePic   *string `json:"profilePic"`
		ReadReceipts *bool   `json:"readReceipts"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	u, err := s.svc.Users.UpdateMe(c.Request().Context(), chat.UserUpdate{Username: body.Username, ProfilePic: body.ProfilePic,
		ReadReceipts: body.ReadReceipts})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMeJSON(u))
}

func (s *Server) findUsers(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	users, err := s.svc.Users.FindUsers(c.Request().Context(), chat.UserFilter{Prefix: c.QueryParam("q"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": toUsersJSON(users)})
}

func (s *Server) findBlocks(c echo.Context) error {
	users, err := s.svc.Blocks.FindBlocks(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": toUsersJSON(users)})
}

// block is PUT (on) and DELETE of /me/blocks/:uid.
func (s *Server) block(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		uid, err := pathID(c, "uid", "User id")
		if err != nil {
			return err
		}
		if on {
			err = s.svc.Blocks.Block(c.Request().Context(), uid)
		} else {
			err = s.svc.Blocks.Unblock(c.Request().Context(), uid)
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// deleteMe deletes the caller's account; the body is optional.
func (s *Server) deleteMe(c echo.Context) error {
	var body struct {
		DeleteMessages *bool `json:"deleteMessages"`
	}
	if c.Request().ContentLength != 0 {
		if err := s.decodeJSON(c, &body); err != nil {
			return err
		}
	}
	del := chat.AccountDeletion{DeleteMessages: body.DeleteMessages != nil && *body.DeleteMessages}
	if err := s.svc.Accounts.DeleteAccount(c.Request().Context(), del); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
