// Command kcpbench times kcp-go 5.6.1's KCP in the two shapes of benchmarks/KcpKestrel.Benchmarks/Arq:
// a send → flush → input → recv cycle of 1400-byte payloads between two KCPs joined back to back, and one
// flush of each of 5,000 idle KCPs. Prints ns/op and B/op.
//
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go run .
package main

import (
	"fmt"
	"runtime"
	"testing"
	_ "unsafe"

	kcp "github.com/xtaci/kcp-go"
)

//go:linkname kcpFlush github.com/xtaci/kcp-go.(*KCP).flush
func kcpFlush(k *kcp.KCP, ackOnly bool) uint32

func fast3(k *kcp.KCP) {
	k.NoDelay(1, 10, 2, 1)
	k.WndSize(1024, 1024)
}

func cycle(b *testing.B) {
	var a, c *kcp.KCP
	a = kcp.NewKCP(1, func(buf []byte, size int) { c.Input(buf[:size], true, false) })
	c = kcp.NewKCP(1, func(buf []byte, size int) { a.Input(buf[:size], true, false) })
	fast3(a)
	fast3(c)
	payload := make([]byte, 1400)
	buffer := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Send(payload)
		kcpFlush(a, false)
		kcpFlush(c, false)
		c.Recv(buffer)
	}
}

const sessions = 5000

func idle(b *testing.B) {
	ks := make([]*kcp.KCP, sessions)
	for i := range ks {
		ks[i] = kcp.NewKCP(uint32(i), func(buf []byte, size int) {})
		fast3(ks[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range ks {
			kcpFlush(k, false)
		}
	}
}

func report(name string, r testing.BenchmarkResult, per int) {
	fmt.Printf("%-28s %10.1f ns/op  %6d B/op  %4d allocs/op  (N=%d)\n", name,
		float64(r.T.Nanoseconds())/float64(r.N)/float64(per), r.AllocedBytesPerOp()/int64(per), r.AllocsPerOp()/int64(per), r.N)
}

func main() {
	fmt.Printf("kcp-go 5.6.1, %s, GOMAXPROCS=%d\n", runtime.Version(), runtime.GOMAXPROCS(0))
	for round := 0; round < 3; round++ {
		report("SendFlushInputReceive", testing.Benchmark(cycle), 1)
		report("FlushIdle (per session)", testing.Benchmark(idle), sessions)
	}
}
