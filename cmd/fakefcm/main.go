// Command fakefcm serves package fakefcm on a port: the stand-in for
// Firebase Cloud Messaging that dev/with-emulators.sh starts for `make
// dev` and `make test` (FCM_ENDPOINT=http://127.0.0.1:PORT).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/chatapp/chat/fakefcm"
)

func main() {
	port := flag.Int("port", 0, "port to listen on, on 127.0.0.1")
	flag.Parse()
	// A background job of a script starts with SIGINT ignored, which Go
	// keeps unless asked: ask, so the runner's SIGINT stops it at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake FCM on http://%s", ln.Addr())
	srv := &http.Server{Handler: fakefcm.New(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
