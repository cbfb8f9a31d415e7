// kcppeer is the kcp-go reference peer the interop tests and the side-by-side benchmarks run
// against KcpKestrel. It is built in GOPATH mode on Debian's kcp-go 5.6.1:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o kcppeer .
//
// Server: kcppeer -mode server -listen 127.0.0.1:0 -app echo|sink|http|grpc [kcp flags]
//
//	prints "listening ADDR" once ready, serves until stdin closes or it is killed.
//
// Client: kcppeer -mode client -target ADDR -workload echo|bulk|pingpong|http|grpc [-bytes N] [-size N] [-count N] [-concurrency N] [kcp flags]
//
//	prints one JSON line with the result; exit code 1 when integrity failed.
//
// grpc (a unary echo as kcpkestrel serve --app grpc's, see grpc.go) needs the peer built with -tags grpc.
package main

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"sort"
	"sync"
	"time"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/pbkdf2"
)

var (
	mode        = flag.String("mode", "server", "server or client")
	listen      = flag.String("listen", "127.0.0.1:0", "server: UDP address to listen on")
	target      = flag.String("target", "", "client: UDP address to dial")
	app         = flag.String("app", "echo", "server: echo, sink, http (GET /plaintext) or grpc (unary echo; -tags grpc)")
	workload    = flag.String("workload", "echo", "client: echo, bulk, pingpong, http or grpc (-tags grpc)")
	concurrency = flag.Int("concurrency", 16, "client: concurrent requests for http and grpc (and most connections for http)")
	totalBytes  = flag.Int64("bytes", 16<<20, "client: bytes to send for echo and bulk")
	size        = flag.Int("size", 64, "client: message size for pingpong and grpc")
	count       = flag.Int("count", 1000, "client: round trips for pingpong")
	seed        = flag.Int64("seed", 1, "client: seed of the payload")
	crypt       = flag.String("crypt", "none", "aes, aes-128, aes-192, salsa20, blowfish, twofish, cast5, 3des, tea, xtea, xor, sm4, none, null")
	key         = flag.String("key", "it's a secrect", "pre-shared secret")
	dataShard   = flag.Int("datashard", 0, "FEC data shards")
	parityShard = flag.Int("parityshard", 0, "FEC parity shards")
	mtu         = flag.Int("mtu", 1350, "KCP mtu")
	sndwnd      = flag.Int("sndwnd", 1024, "send window")
	rcvwnd      = flag.Int("rcvwnd", 1024, "receive window")
	nodelay     = flag.Int("nodelay", 1, "KCP nodelay")
	interval    = flag.Int("interval", 10, "KCP interval ms")
	resend      = flag.Int("resend", 2, "KCP fast resend")
	nc          = flag.Int("nc", 1, "KCP no congestion control")
	timeout     = flag.Duration("timeout", 120*time.Second, "client: give up after this long")
)

// The gRPC app and workload; set by grpc.go, which only a build with -tags grpc includes.
var (
	serveGRPC    func(*kcp.Listener) error
	grpcWorkload func(kcp.BlockCrypt) result
)

func blockCrypt() (kcp.BlockCrypt, error) {
	pass := pbkdf2.Key([]byte(*key), []byte("kcp-go"), 4096, 32, sha1.New)
	switch *crypt {
	case "null":
		return nil, nil
	case "none":
		return kcp.NewNoneBlockCrypt(pass)
	case "aes":
		return kcp.NewAESBlockCrypt(pass)
	case "aes-128":
		return kcp.NewAESBlockCrypt(pass[:16])
	case "aes-192":
		return kcp.NewAESBlockCrypt(pass[:24])
	case "salsa20":
		return kcp.NewSalsa20BlockCrypt(pass)
	case "blowfish":
		return kcp.NewBlowfishBlockCrypt(pass)
	case "twofish":
		return kcp.NewTwofishBlockCrypt(pass)
	case "cast5":
		return kcp.NewCast5BlockCrypt(pass[:16])
	case "3des":
		return kcp.NewTripleDESBlockCrypt(pass[:24])
	case "tea":
		return kcp.NewTEABlockCrypt(pass[:16])
	case "xtea":
		return kcp.NewXTEABlockCrypt(pass[:16])
	case "xor":
		return kcp.NewSimpleXORBlockCrypt(pass)
	case "sm4":
		return kcp.NewSM4BlockCrypt(pass[:16])
	}
	return nil, fmt.Errorf("unknown -crypt %q", *crypt)
}

func tune(s *kcp.UDPSession) {
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetNoDelay(*nodelay, *interval, *resend, *nc)
	s.SetWindowSize(*sndwnd, *rcvwnd)
	s.SetMtu(*mtu)
	s.SetACKNoDelay(true)
}

func main() {
	flag.Parse()
	block, err := blockCrypt()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch *mode {
	case "server":
		serve(block)
	case "client":
		os.Exit(client(block))
	default:
		fmt.Fprintf(os.Stderr, "unknown -mode %q\n", *mode)
		os.Exit(2)
	}
}

func serve(block kcp.BlockCrypt) {
	l, err := kcp.ListenWithOptions(*listen, block, *dataShard, *parityShard)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l.SetReadBuffer(4 << 20)
	l.SetWriteBuffer(4 << 20)
	fmt.Printf("listening %s\n", l.Addr())
	// The test harness owns our life: when it closes stdin, we go.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if *app == "http" {
		fmt.Fprintln(os.Stderr, serveHTTP(l))
		os.Exit(1)
	}
	if *app == "grpc" {
		if serveGRPC == nil {
			fmt.Fprintln(os.Stderr, "-app grpc needs a peer built with -tags grpc")
		} else {
			fmt.Fprintln(os.Stderr, serveGRPC(l))
		}
		os.Exit(1)
	}
	for {
		s, err := l.AcceptKCP()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tune(s)
		go handle(s)
	}
}

// handle serves one session. echo writes back every byte. sink reads and discards, and every
// 10 ms that it has received more it writes the running total as a little-endian uint64, so a
// bulk sender knows when everything arrived. Writing back also matters for a reason of kcp-go's
// own: 5.6.1 accepts a session with a 32-segment receive window and never announces it when the
// app raises it, so a sender that filled those 32 segments would wait out a 7 s window probe;
// every segment we send carries the new window at once.
func handle(s *kcp.UDPSession) {
	defer s.Close()
	buf := make([]byte, 64<<10)
	var total int64
	var mu sync.Mutex
	done := make(chan struct{})
	defer close(done)
	if *app == "sink" {
		go func() {
			var last int64 = -1
			counter := make([]byte, 8)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				mu.Lock()
				t := total
				mu.Unlock()
				if t != last {
					last = t
					binary.LittleEndian.PutUint64(counter, uint64(t))
					if _, err := s.Write(counter); err != nil {
						return
					}
				}
			}
		}()
	}
	for {
		s.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := s.Read(buf)
		if err != nil {
			return
		}
		if *app == "echo" {
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
		} else {
			mu.Lock()
			total += int64(n)
			mu.Unlock()
		}
	}
}

// result's field names are kcpkestrel bench's, so one script reads both. The counters come from
// kcp.DefaultSnmp, which counts every session of the process: a client has one.
type result struct {
	Workload        string  `json:"workload"`
	Bytes           int64   `json:"bytes"`
	Seconds         float64 `json:"seconds"`
	MBPerS          float64 `json:"mb_per_s"`
	P50us           float64 `json:"rtt_p50_us"`
	P99us           float64 `json:"rtt_p99_us"`
	P999us          float64 `json:"rtt_p999_us"`
	OK              bool    `json:"ok"`
	Errors          int     `json:"errors"`
	Retransmits     uint64  `json:"retransmits"`
	SegmentsSent    uint64  `json:"segments_sent"`
	FecRecovered    uint64  `json:"fec_recovered"`
	FastRetransmits uint64  `json:"fast_retransmits"`
	LostSegments    uint64  `json:"lost_segments"`
	Error           string  `json:"error,omitempty"`
}

func client(block kcp.BlockCrypt) int {
	if *workload == "http" || *workload == "grpc" {
		// Sessions of its own, one per HTTP connection.
		start := time.Now()
		run := httpWorkload
		if *workload == "grpc" {
			if grpcWorkload == nil {
				return report(result{Workload: *workload, Error: "-workload grpc needs a peer built with -tags grpc", Errors: 1})
			}
			run = grpcWorkload
		}
		r := run(block)
		r.Workload = *workload
		r.Seconds = time.Since(start).Seconds()
		return report(r)
	}
	s, err := kcp.DialWithOptions(*target, block, *dataShard, *parityShard)
	if err != nil {
		return report(result{Workload: *workload, Error: err.Error(), Errors: 1})
	}
	defer s.Close()
	tune(s)
	s.SetReadBuffer(4 << 20)
	s.SetWriteBuffer(4 << 20)
	s.SetDeadline(time.Now().Add(*timeout))
	start := time.Now()
	var r result
	switch *workload {
	case "echo", "bulk":
		r = stream(s, *workload == "echo")
	case "pingpong":
		r = pingpong(s)
	default:
		return report(result{Workload: *workload, Error: "unknown -workload", Errors: 1})
	}
	r.Workload = *workload
	r.Seconds = time.Since(start).Seconds()
	if r.Bytes > 0 && r.Seconds > 0 {
		r.MBPerS = float64(r.Bytes) / r.Seconds / 1e6
	}
	return report(r)
}

func report(r result) int {
	if r.Error != "" {
		r.OK = false
	}
	snmp := kcp.DefaultSnmp.Copy()
	r.Retransmits = snmp.RetransSegs
	r.SegmentsSent = snmp.OutSegs
	r.FecRecovered = snmp.FECRecovered
	r.FastRetransmits = snmp.FastRetransSegs
	r.LostSegments = snmp.LostSegs
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	if !r.OK {
		return 1
	}
	return 0
}

// stream writes -bytes of seeded pseudo-random data; for echo it reads them back and compares SHA-256.
func stream(s *kcp.UDPSession, echo bool) result {
	rng := rand.New(rand.NewSource(*seed))
	sent := sha256.New()
	var wg sync.WaitGroup
	var readErr error
	got := sha256.New()
	var received, acked int64
	var pending []byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			if echo && received >= *totalBytes {
				return
			}
			n, err := s.Read(buf)
			if err != nil {
				readErr = err
				return
			}
			if echo {
				got.Write(buf[:n])
				received += int64(n)
				continue
			}
			// A sink reports its running total as little-endian uint64s; the last one counts.
			pending = append(pending, buf[:n]...)
			for len(pending) >= 8 {
				acked = int64(binary.LittleEndian.Uint64(pending))
				pending = pending[8:]
			}
			if acked >= *totalBytes {
				return
			}
		}
	}()
	chunk := make([]byte, 32<<10)
	var written int64
	for written < *totalBytes {
		n := int64(len(chunk))
		if *totalBytes-written < n {
			n = *totalBytes - written
		}
		rng.Read(chunk[:n])
		sent.Write(chunk[:n])
		if _, err := s.Write(chunk[:n]); err != nil {
			return result{Bytes: written, Error: err.Error(), Errors: 1}
		}
		written += n
	}
	wg.Wait()
	if !echo {
		if readErr != nil {
			return result{Bytes: acked, Error: readErr.Error(), Errors: 1}
		}
		return result{Bytes: written, OK: acked == written}
	}
	if readErr != nil {
		return result{Bytes: received, Error: readErr.Error(), Errors: 1}
	}
	ok := string(sent.Sum(nil)) == string(got.Sum(nil))
	r := result{Bytes: written, OK: ok}
	if !ok {
		r.Errors = 1
		r.Error = "sha256 mismatch"
	}
	return r
}

func pingpong(s *kcp.UDPSession) result {
	msg := make([]byte, *size)
	back := make([]byte, *size)
	rtts := make([]float64, 0, *count)
	for i := 0; i < *count; i++ {
		binary.LittleEndian.PutUint32(msg, uint32(i))
		t := time.Now()
		if _, err := s.Write(msg); err != nil {
			return result{Error: err.Error(), Errors: 1}
		}
		if _, err := io.ReadFull(s, back); err != nil {
			return result{Error: err.Error(), Errors: 1}
		}
		rtts = append(rtts, float64(time.Since(t).Microseconds()))
		if binary.LittleEndian.Uint32(back) != uint32(i) {
			return result{Error: "pingpong reply out of order", Errors: 1}
		}
	}
	sort.Float64s(rtts)
	return result{
		Bytes:  int64(*count) * int64(*size) * 2,
		P50us:  rtts[len(rtts)/2],
		P99us:  rtts[len(rtts)*99/100],
		P999us: rtts[len(rtts)*999/1000],
		OK:     true,
	}
}
