// Command smux prints the bytes xtaci/smux 1.5.16 puts on the wire for a fixed exchange (tests/KcpKestrel.Smux.Tests
// SmuxGoVectors holds its output): a v1 and a v2 client session over net.Pipe, the server side echoing.
// smux keeps its frame encoder unexported, so the bytes are captured from a real session.
package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/xtaci/smux"
)

// recorder keeps what the client session writes.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.out = append(r.out, b...)
	r.mu.Unlock()
	return r.Conn.Write(b)
}

func main() {
	for _, version := range []int{1, 2} {
		c, s := net.Pipe()
		rc := &recorder{Conn: c}
		rs := &recorder{Conn: s}
		cfg := smux.DefaultConfig()
		cfg.Version = version
		cfg.KeepAliveDisabled = true
		client, _ := smux.Client(rc, cfg)
		server, _ := smux.Server(rs, cfg)

		st, _ := client.OpenStream()
		st.Write([]byte("hello"))
		peer, _ := server.AcceptStream()
		buf := make([]byte, 5)
		io.ReadFull(peer, buf)
		peer.Write([]byte("world"))
		io.ReadFull(st, buf)
		time.Sleep(100 * time.Millisecond)
		st.Close()
		time.Sleep(100 * time.Millisecond)
		peer.Close()
		time.Sleep(100 * time.Millisecond)

		rc.mu.Lock()
		rs.mu.Lock()
		fmt.Printf("v%d client %s\n", version, hex.EncodeToString(rc.out))
		fmt.Printf("v%d server %s\n", version, hex.EncodeToString(rs.out))
		rc.mu.Unlock()
		rs.mu.Unlock()
	}
}
