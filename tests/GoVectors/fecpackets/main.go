// Command fecpackets captures the datagrams kcp-go 5.6.1 sends with FEC on (no encryption), through
// a fake net.PacketConn, so tests can check our FEC encoder produces the same headers and parity
// from the same KCP bytes, and our decoder recovers from kcp-go's parity.
//
// Output: for each case a line "case <dataShards> <parityShards>", then one hex datagram per line
// in send order, then "end".
//
//	cd tests/GoVectors/fecpackets && GO111MODULE=off GOPATH=/usr/share/gocode go run . > ../../KcpKestrel.Core.Tests/Fec/TestData/kcpgo-fec-packets.txt
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

type captureConn struct {
	mu     sync.Mutex
	pkts   [][]byte
	closed chan struct{}
}

func (c *captureConn) ReadFrom(p []byte) (int, net.Addr, error) {
	<-c.closed
	return 0, nil, errors.New("closed")
}

func (c *captureConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pkts = append(c.pkts, append([]byte(nil), p...))
	return len(p), nil
}

func (c *captureConn) Close() error                       { return nil }
func (c *captureConn) LocalAddr() net.Addr                { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *captureConn) SetDeadline(t time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(t time.Time) error { return nil }

func capture(ds, ps, want int) [][]byte {
	conn := &captureConn{closed: make(chan struct{})}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2}
	sess, err := kcp.NewConn3(0x11223344, remote, nil, ds, ps, conn)
	if err != nil {
		panic(err)
	}
	sess.SetNoDelay(1, 10, 2, 1)
	sess.SetWindowSize(1024, 1024)
	for i := 0; ; i++ {
		conn.mu.Lock()
		n := len(conn.pkts)
		conn.mu.Unlock()
		if n >= want {
			break
		}
		// Sizes vary so groups mix short and long shards (zero padding matters).
		size := 1 + (i*97)%400
		if i%7 == 3 {
			size = 1500 // fragments into a full-mtu packet
		}
		msg := make([]byte, size)
		for j := range msg {
			msg[j] = byte(i + j*3)
		}
		if _, err := sess.Write(msg); err != nil {
			panic(err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	sess.Close()
	close(conn.closed)
	conn.mu.Lock()
	defer conn.mu.Unlock()
	return conn.pkts[:want]
}

func main() {
	for _, c := range []struct{ ds, ps, n int }{{10, 3, 52}, {3, 2, 30}} {
		fmt.Printf("case %d %d\n", c.ds, c.ps)
		for _, p := range capture(c.ds, c.ps, c.n) {
			fmt.Println(hex.EncodeToString(p))
		}
		fmt.Println("end")
	}
}
