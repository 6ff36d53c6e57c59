package handlers

import (
	"bufio"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

// exportChatJSON is a chat line of an export.
type exportChatJSON struct {
	ID       string `json:"id"`
	IsGroup  bool   `json:"isGroup"`
	Name     string `json:"name"`
	JoinedAt string `json:"joinedAt"`
}

// exportBuffer is how much of an export is written before it is flushed
// to the client: memory stays flat whatever the export's size.
const exportBuffer = 64 << 10

// export streams the caller's data as NDJSON. Nothing is written before
// the service's first item, so a refusal (429) is an ordinary Error; a
// failure after the first line aborts the response, so the client sees a
// broken download, never a short file that looks whole.
func (s *Server) export(c echo.Context) error {
	var w *bufio.Writer
	var enc *json.Encoder
	uid := viewer(c)
	err := s.svc.Export.Export(c.Request().Context(), func(it chat.ExportItem) error {
		if w == nil {
			h := c.Response().Header()
			h.Set(echo.HeaderContentType, "application/x-ndjson")
			h.Set(echo.HeaderContentDisposition, `attachment; filename="chatapp-export.ndjson"`)
			h.Set("Cache-Control", "no-store")
			c.Response().WriteHeader(http.StatusOK)
			w = bufio.NewWriterSize(c.Response(), exportBuffer)
			enc = json.NewEncoder(w)
		}
		var line any
		switch {
		case it.Me != nil:
			line = map[string]any{"me": toMeJSON(it.Me)}
		case it.Chat != nil:
			line = map[string]any{"chat": exportChatJSON{ID: it.Chat.ID, IsGroup: it.Chat.IsGroup, Name: it.Chat.Name, JoinedAt: fmtTime(it.Chat.JoinedAt)}}
		case it.Message != nil:
			line = map[string]any{"message": toMessageJSON(it.Message, uid)}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
		if w.Buffered() >= exportBuffer/2 {
			if err := w.Flush(); err != nil {
				return err
			}
			c.Response().Flush()
		}
		return nil
	})
	if w == nil {
		return err // nothing written: an ordinary error answer
	}
	if err != nil {
		s.log.Warn("export cut off", "user", uid, "err", err.Error())
		panic(http.ErrAbortHandler)
	}
	if err := w.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}
