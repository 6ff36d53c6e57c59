package handlers_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatapp/chat/chattest"
)

func rssKB() int {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var n int
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:")), "%d", &n)
			return n
		}
	}
	return 0
}

func TestMeasureStuckRSS(t *testing.T) {
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{PingInterval: time.Minute, PingTimeout: time.Minute}))
	u := newUsers(t, a, 21)
	var ids []string
	for _, x := range u[1:] {
		ids = append(ids, x.UID)
	}
	g := a.mustChat(t, u[0].Token, map[string]any{"userIds": ids, "isGroup": true})
	long := strings.Repeat("x", 4000)
	for i := range 50 {
		a.mustSend(t, u[0].Token, g.ID, long)
		if i%9 == 8 {
			time.Sleep(time.Second)
		}
	}
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	for _, x := range u[1:] {
		ws, _, err := d.Dial("ws"+strings.TrimPrefix(a.in.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.ReadMessage()
		ws.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+x.Token+`"}`))
		ws.ReadMessage()
		ws.WriteMessage(websocket.TextMessage, []byte(`421["joinChat","`+g.ID+`"]`))
		ws.ReadMessage()
	}
	runtime.GC()
	idle := rssKB()
	peak := idle
	end := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(time.Second / 20)
	n := 0
	for time.Now().Before(end) {
		<-tick.C
		n++
		a.in.Do(t, "PATCH", "/api/chats/"+g.ID, u[0].Token, map[string]any{"name": fmt.Sprint("r", n)})
		peak = max(peak, rssKB())
	}
	s, _ := a.in.App.Sockets()
	t.Logf("20 non-reading sockets, %d renames (~200 KB chatUpdated each) over 60 s: RSS idle %d MB, peak %d MB, now %d MB; sockets left %d", n, idle>>10, peak>>10, rssKB()>>10, s)
}
