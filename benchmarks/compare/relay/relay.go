// relay: an independent UDP relay for benchmarks, written apart from kcpkestrel's own relay so a figure measured
// through it was not tuned against our relay's timing. Each direction drops datagrams at random (seeded), holds
// the rest for a fixed delay, and can pass them through a rate-limited FIFO queue (a bottleneck with a drop-tail
// buffer). One upstream socket per client address, as a NAT would.
//
//	go run relay.go -listen 127.0.0.1:0 -target 127.0.0.1:9000 -loss 0.05 -delay 5ms -seed 1 [-rate 50] [-queue 256]
//
// Prints "listening ADDR" first; stops when stdin closes and then prints its counters on stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type packet struct {
	due  time.Time
	data []byte
}

// direction is one way through the relay: loss, then a bottleneck queue (if -rate), then the fixed delay.
type direction struct {
	name      string
	loss      float64
	delay     time.Duration
	bytesPerS float64
	rng       *rand.Rand
	queue     chan packet
	send      func([]byte)
	forwarded atomic.Int64
	lost      atomic.Int64
	overflow  atomic.Int64
}

func newDirection(name string, loss float64, delay time.Duration, rateMbit float64, queue int, seed int64, send func([]byte)) *direction {
	d := &direction{name: name, loss: loss, delay: delay, bytesPerS: rateMbit * 1e6 / 8, rng: rand.New(rand.NewSource(seed)),
		queue: make(chan packet, queue), send: send}
	go d.run()
	return d
}

// offer is called by one reader goroutine per direction, so the seeded generator needs no lock.
func (d *direction) offer(data []byte) {
	if d.loss > 0 && d.rng.Float64() < d.loss {
		d.lost.Add(1)
		return
	}
	copied := append([]byte(nil), data...)
	select {
	case d.queue <- packet{due: time.Now().Add(d.delay), data: copied}:
	default:
		d.overflow.Add(1) // the bottleneck's buffer is full: drop-tail
	}
}

// run serves the queue in order: a packet leaves no earlier than its due time and, with a rate, no earlier than
// the previous packet's serialisation allows.
func (d *direction) run() {
	next := time.Now()
	for p := range d.queue {
		at := p.due
		if d.bytesPerS > 0 {
			if next.After(at) {
				at = next
			}
			next = at.Add(time.Duration(float64(len(p.data)) / d.bytesPerS * float64(time.Second)))
		}
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		d.send(p.data)
		d.forwarded.Add(1)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address clients send to")
	target := flag.String("target", "", "UDP address of the server")
	loss := flag.Float64("loss", 0, "probability of dropping each datagram, each direction")
	delay := flag.Duration("delay", 0, "one-way delay added to each direction")
	rate := flag.Float64("rate", 0, "bottleneck rate in Mbit/s each direction (0: none)")
	queue := flag.Int("queue", 4096, "datagrams a direction may hold (delay line and bottleneck buffer)")
	seed := flag.Int64("seed", 1, "seed of the loss draws")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "relay: -target is required")
		os.Exit(2)
	}
	server, err := net.ResolveUDPAddr("udp", *target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
	front, err := net.ListenUDP("udp", mustResolve(*listen))
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
	_ = front.SetReadBuffer(8 << 20)
	_ = front.SetWriteBuffer(8 << 20)
	fmt.Printf("listening %s\n", front.LocalAddr())

	var mu sync.Mutex
	upstreams := map[string]*direction{}
	var all []*direction
	clients := 0

	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			key := from.String()
			mu.Lock()
			up, ok := upstreams[key]
			if !ok {
				conn, err := net.DialUDP("udp", nil, server)
				if err != nil {
					mu.Unlock()
					continue
				}
				_ = conn.SetReadBuffer(8 << 20)
				_ = conn.SetWriteBuffer(8 << 20)
				clients++
				client := from
				up = newDirection("to-server", *loss, *delay, *rate, *queue, *seed+int64(2*clients), func(b []byte) { _, _ = conn.Write(b) })
				down := newDirection("to-client", *loss, *delay, *rate, *queue, *seed+int64(2*clients+1), func(b []byte) { _, _ = front.WriteToUDP(b, client) })
				upstreams[key] = up
				all = append(all, up, down)
				go func() {
					back := make([]byte, 65536)
					for {
						m, err := conn.Read(back)
						if err != nil {
							return
						}
						down.offer(back[:m])
					}
				}()
			}
			mu.Unlock()
			up.offer(buf[:n])
		}
	}()

	_, _ = io.Copy(io.Discard, os.Stdin)
	mu.Lock()
	var forwarded, lost, overflow int64
	for _, d := range all {
		forwarded += d.forwarded.Load()
		lost += d.lost.Load()
		overflow += d.overflow.Load()
	}
	mu.Unlock()
	fmt.Fprintf(os.Stderr, "relay: clients=%d forwarded=%d lost=%d overflow=%d\n", clients, forwarded, lost, overflow)
}

func mustResolve(address string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(2)
	}
	return a
}
