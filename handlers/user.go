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
	return c.JSON(http.StatusOK, toUserJSON(u))
}

func (s *Server) patchMe(c echo.Context) error {
	var body struct {
		Username   *string `json:"username"`
		ProfilePic *string `json:"profilePic"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	u, err := s.svc.Users.UpdateMe(c.Request().Context(), chat.UserUpdate{Username: body.Username, ProfilePic: body.ProfilePic})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
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
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u))
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}
