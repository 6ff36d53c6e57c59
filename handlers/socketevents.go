package handlers

import (
	"context"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/chatapp/chat"
)

// eventTimeout bounds what one client event may wait for: a store too
// slow for it answers "internal", which clients retry, rather than
// leaving the ack unanswered for as long as the socket lives.
const eventTimeout = 10 * time.Second

// register installs the socket's event handlers.
func (g *Sockets) register(c *conn) {
	s, svc := c.s, g.svc
	on := func(ev string, fn func(ctx context.Context, chatID string) error) {
		_ = s.On(ev, func(args ...any) {
			chatID, ack, err := parseArgs(args)
			if !c.limiter.Allow() {
				// Over the limit: answered, no effect, the socket stays.
				err = chat.Errorf(chat.ERATELIMITED, "Too many events; slow down.")
			} else if err == nil {
				ctx, cancel := context.WithTimeout(c.ctx, eventTimeout)
				err = fn(ctx, chatID)
				cancel()
			}
			if ack == nil {
				if err != nil && chat.ErrorCode(err) == chat.EINTERNAL {
					g.log.Error("socket event failed", "event", ev, "user", c.uid, "socket", string(s.Id()), "chat", chatID, "err", err.Error())
				}
				return
			}
			if err != nil {
				_, body := errorPayload(c.ctx, g.log, err)
				ack([]any{body}, nil)
				return
			}
			ack([]any{map[string]any{"ok": true}}, nil)
		})
	}
	on("joinChat", func(ctx context.Context, chatID string) error { return g.join(ctx, c, chatID) })
	on("leaveChat", func(ctx context.Context, chatID string) error {
		if !g.hub.Leave(c.hc, chatID) {
			return svc.Rooms.CheckMember(ctx, chatID)
		}
		return nil
	})
	on("typing", func(ctx context.Context, chatID string) error {
		if !c.hc.Joined(chatID) {
			return chat.Errorf(chat.ENOTFOUND, "Join the chat before typing in it.")
		}
		if err := svc.Rooms.SetTyping(ctx, chatID, true); err != nil {
			return err
		}
		c.hc.SetTyping(chatID, true)
		return nil
	})
	on("stopTyping", func(ctx context.Context, chatID string) error {
		if !c.hc.Joined(chatID) {
			return chat.Errorf(chat.ENOTFOUND, "Join the chat before typing in it.")
		}
		if !c.hc.SetTyping(chatID, false) {
			return nil
		}
		return svc.Rooms.SetTyping(ctx, chatID, false)
	})
	_ = s.On("disconnect", func(args ...any) {
		reason := ""
		if len(args) > 0 {
			reason, _ = args[0].(string)
		}
		if g.drop(c) {
			g.log.Info("socket disconnected", "user", c.uid, "socket", string(s.Id()), "transport", c.transport, "reason", reason)
		}
	})
}

// join puts a socket in a chat's room once the service has checked the
// membership (and marked the chat read); the hub refuses the room to a
// user removed from the chat meanwhile.
func (g *Sockets) join(ctx context.Context, c *conn, chatID string) error {
	j, err := g.hub.BeginJoin(c.hc, chatID)
	if err != nil {
		return err
	}
	if j.Skip {
		// Open here already, and every summary since says read: joining
		// again marks nothing, so it reads nothing and writes nothing.
		return nil
	}
	if err := g.svc.Rooms.JoinChat(ctx, chatID); err != nil {
		return err
	}
	g.hub.MarkedRead(j)
	if j.Open {
		return nil
	}
	release, err := g.feed.WatchChat(ctx, chatID)
	if err != nil {
		return err
	}
	return g.hub.FinishJoin(j, release)
}

// parseArgs reads a client event's chatId and optional ack. A missing or
// non-string payload is EINVALID, never a panic.
func parseArgs(args []any) (string, socket.Ack, error) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			ack = a
			args = args[:n-1]
		}
	}
	if len(args) == 0 {
		return "", ack, chat.Errorf(chat.EINVALID, "chatId is required.")
	}
	id, ok := args[0].(string)
	if !ok {
		return "", ack, chat.Errorf(chat.EINVALID, "chatId must be a string.")
	}
	if err := chat.ValidateID("chatId", id); err != nil {
		return "", ack, err
	}
	return id, ack, nil
}
