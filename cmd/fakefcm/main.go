// Command fakefcm serves package fakefcm on a port: the stand-in for
// Firebase Cloud Messaging that dev/with-emulators.sh starts for `make
// dev` and `make test` (FCM_ENDPOINT=http://127.0.0.1:PORT).
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/chatapp/chat/fakefcm"
)

func main() {
	port := flag.Int("port", 0, "port to listen on, on 127.0.0.1")
	flag.Parse()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake FCM on http://%s", ln.Addr())
	srv := &http.Server{Handler: fakefcm.New(), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}
