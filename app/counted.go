package app

import (
	"github.com/chatapp/chat"
	"github.com/chatapp/chat/metrics"
)

// countedSockets counts sockets on their way to presence.
type countedSockets struct {
	chat.PresenceTracker
	m *metrics.Metrics
}

func (c countedSockets) SocketOpened(uid string) {
	c.m.Connects.Inc()
	c.PresenceTracker.SocketOpened(uid)
}

func (c countedSockets) SocketClosed(uid string) {
	c.m.Disconnects.Inc()
	c.PresenceTracker.SocketClosed(uid)
}

// countedEvents counts events on their way to the hub.
type countedEvents struct {
	chat.EventSink
	m *metrics.Metrics
}

func (c countedEvents) Deliver(ev chat.Event) {
	c.m.Events.WithLabelValues(ev.Kind).Inc()
	c.EventSink.Deliver(ev)
}
