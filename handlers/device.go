package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// deviceJSON is the contract's Device: never its token.
type deviceJSON struct {
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	UpdatedAt string `json:"updatedAt"`
}

func (s *Server) findDevices(c echo.Context) error {
	ds, err := s.svc.Devices.FindDevices(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, deviceJSON{ID: d.ID, Platform: d.Platform, UpdatedAt: fmtTime(d.UpdatedAt)})
	}
	return c.JSON(http.StatusOK, map[string]any{"devices": out})
}

func (s *Server) putDevice(c echo.Context) error {
	var body struct {
		Token    string `json:"token"`
		Platform string `json:"platform"`
	}
	if err := s.decodeJSON(c, &body); err != nil {
		return err
	}
	if err := s.svc.Devices.PutDevice(c.Request().Context(), c.Param("deviceId"), body.Token, body.Platform); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) deleteDevice(c echo.Context) error {
	id, err := pathID(c, "deviceId", "Device id")
	if err != nil {
		return err
	}
	if err := s.svc.Devices.DeleteDevice(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
