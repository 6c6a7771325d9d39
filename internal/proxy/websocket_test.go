package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/rampart-edge/rampart/internal/config"
)

func TestWebSocket(t *testing.T) {
	up := websocket.Upgrader{}
	o := origins(t, 1, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				mt, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				c.WriteMessage(mt, append([]byte("echo: "), msg...))
			}
		})
	})
	tp := startProxy(t, config.Zone{Origins: o}, Options{}, frontOpts{})
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(tp.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dialing through the proxy: %v", err)
	}
	defer ws.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	for _, msg := range []string{"hello", "second message", strings.Repeat("x", 100000)} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "echo: "+msg {
			t.Errorf("got %q, want echo of %q", truncate(got), msg[:min(len(msg), 20)])
		}
	}
}
