// Command kcp writes golden datagrams from kcp-go 5.6.1's KCP for the Arq tests.
//
// kcp-go stamps ts from its own monotonic clock, so the checked-in output is compared with every segment's
// ts masked; the scenarios are built so that no decision depends on the clock (no RTO expires: the whole
// run takes far less than the 100 ms minimum rto).
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go run . > ../../KcpKestrel.Core.Tests/Arq/TestData/kcp-go-vectors.txt
package main

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"unsafe"

	kcp "github.com/xtaci/kcp-go"
)

//go:linkname kcpFlush github.com/xtaci/kcp-go.(*KCP).flush
func kcpFlush(k *kcp.KCP, ackOnly bool) uint32

const conv = 0x11223344

type peer struct {
	name     string
	scenario string
	k        *kcp.KCP
	out      [][]byte
}

func newPeer(scenario, name string) *peer {
	p := &peer{name: name, scenario: scenario}
	p.k = kcp.NewKCP(conv, func(buf []byte, size int) {
		d := make([]byte, size)
		copy(d, buf[:size])
		p.out = append(p.out, d)
		fmt.Printf("%s %s %s\n", scenario, name, hex.EncodeToString(d))
	})
	return p
}

func setStream(k *kcp.KCP) {
	f := reflect.ValueOf(k).Elem().FieldByName("stream")
	*(*int32)(unsafe.Pointer(f.UnsafeAddr())) = 1
}

// take returns and clears what p has emitted so far.
func (p *peer) take() [][]byte {
	o := p.out
	p.out = nil
	return o
}

func deliver(to *peer, datagrams [][]byte) {
	for _, d := range datagrams {
		if r := to.k.Input(d, true, false); r != 0 {
			panic(fmt.Sprintf("input returned %d", r))
		}
	}
}

func payload(msg, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + msg*13)
	}
	return b
}

func drain(p *peer) {
	buf := make([]byte, 1<<20)
	for {
		n := p.k.Recv(buf)
		if n < 0 {
			return
		}
		fmt.Printf("%s %s recv %d %s\n", p.scenario, p.name, n, hex.EncodeToString(buf[:min(n, 8)]))
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// exchange runs flushes and deliveries until both sides are quiet.
func exchange(a, b *peer) {
	for round := 0; round < 6; round++ {
		kcpFlush(a.k, false)
		deliver(b, a.take())
		kcpFlush(b.k, false)
		deliver(a, b.take())
	}
}

func main() {
	// message: sizes around mss, fragmentation, nc=1 (kcptun modes).
	{
		a, b := newPeer("message", "A"), newPeer("message", "B")
		a.k.NoDelay(0, 40, 2, 1)
		b.k.NoDelay(0, 40, 2, 1)
		for i, size := range []int{1, 100, 1376, 1377, 3*1376 + 5} {
			a.k.Send(payload(i, size))
		}
		exchange(a, b)
		drain(b)
	}
	// stream: writes coalesce into full segments.
	{
		a, b := newPeer("stream", "A"), newPeer("stream", "B")
		setStream(a.k)
		setStream(b.k)
		a.k.NoDelay(1, 20, 2, 1)
		b.k.NoDelay(1, 20, 2, 1)
		for i, size := range []int{500, 500, 500, 2000} {
			a.k.Send(payload(i, size))
		}
		exchange(a, b)
		drain(b)
	}
	// reserved: ReserveBytes + small mtu, a message of many fragments.
	{
		a, b := newPeer("reserved", "A"), newPeer("reserved", "B")
		a.k.SetMtu(600)
		b.k.SetMtu(600)
		a.k.ReserveBytes(28)
		b.k.ReserveBytes(28)
		a.k.NoDelay(1, 10, 2, 1)
		b.k.NoDelay(1, 10, 2, 1)
		a.k.WndSize(128, 128)
		b.k.WndSize(128, 128)
		a.k.Send(payload(0, 2000))
		a.k.Send(payload(1, 10))
		for round := 0; round < 4; round++ {
			kcpFlush(a.k, false)
			var stripped [][]byte
			for _, d := range a.take() {
				stripped = append(stripped, d[28:])
			}
			deliver(b, stripped)
			kcpFlush(b.k, false)
			stripped = nil
			for _, d := range b.take() {
				stripped = append(stripped, d[28:])
			}
			deliver(a, stripped)
		}
		drain(b)
	}
	// cwnd: congestion control on (kcp defaults), slow start from cwnd 0.
	{
		a, b := newPeer("cwnd", "A"), newPeer("cwnd", "B")
		for i := 0; i < 12; i++ {
			a.k.Send(payload(i, 200+i))
		}
		exchange(a, b)
		drain(b)
	}
	// window: rcv_wnd 4 fills, the reader frees one slot, WINS goes out.
	{
		a, b := newPeer("window", "A"), newPeer("window", "B")
		a.k.NoDelay(0, 40, 0, 1)
		b.k.NoDelay(0, 40, 0, 1)
		b.k.WndSize(32, 4)
		for i := 0; i < 6; i++ {
			a.k.Send(payload(i, 50))
		}
		kcpFlush(a.k, false)
		deliver(b, a.take())
		kcpFlush(b.k, false)
		deliver(a, b.take())
		kcpFlush(a.k, false)
		deliver(b, a.take())
		buf := make([]byte, 100)
		n := b.k.Recv(buf)
		fmt.Printf("window B recv %d %s\n", n, hex.EncodeToString(buf[:8]))
		kcpFlush(b.k, false)
		deliver(a, b.take())
		kcpFlush(a.k, false)
		deliver(b, a.take())
		kcpFlush(b.k, false)
		deliver(a, b.take())
	}
	// acknodelay: acks flushed from Input, a WASK answered by WINS.
	{
		a, b := newPeer("acknodelay", "A"), newPeer("acknodelay", "B")
		a.k.NoDelay(1, 10, 2, 1)
		b.k.NoDelay(1, 10, 2, 1)
		a.k.Send(payload(0, 300))
		a.k.Send(payload(1, 300))
		kcpFlush(a.k, false)
		for _, d := range a.take() {
			b.k.Input(d, true, true)
		}
		deliver(a, b.take())
		wask := make([]byte, 24)
		copy(wask, []byte{0x44, 0x33, 0x22, 0x11, 83, 0, 32, 0})
		b.k.Input(wask, true, false)
		kcpFlush(b.k, false)
		deliver(a, b.take())
		drain(b)
	}
}
