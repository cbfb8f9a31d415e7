// Command GoSmuxPeer is the xtaci/smux reference peer for KcpKestrel.Smux's interop tests: an echo server or a
// checking client over TCP, or over kcp-go as kcptun runs it, on Debian's smux 1.5.16 (GOPATH mode).
//
//	server: -mode server -listen 127.0.0.1:0 -version 2   prints "listening <addr>", echoes every stream until stdin closes
//	client: -mode client -target <addr> -version 2 -streams 16 -bytes 1048576   prints one JSON line
//	kcp:    -transport kcp -crypt aes -key K -datashard 10 -parityshard 3 [-comp]   (kcptun's layout: smux over
//	        snappy over a kcp-go session; -comp is kcptun's default, --nocomp its absence)
package main

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/xtaci/kcp-go"
	"github.com/xtaci/smux"
	"golang.org/x/crypto/pbkdf2"
)

var (
	transport   = flag.String("transport", "tcp", "tcp or kcp")
	crypt       = flag.String("crypt", "aes", "kcp: aes or none")
	key         = flag.String("key", "it's a secrect", "kcp: pre-shared secret (kcptun's --key)")
	dataShard   = flag.Int("datashard", 10, "kcp: FEC data shards")
	parityShard = flag.Int("parityshard", 3, "kcp: FEC parity shards")
	comp        = flag.Bool("comp", false, "kcp: snappy below smux, as kcptun without --nocomp")
)

// snappyConn is kcptun's compression: snappy's framing format over the session, flushed after every write.
type snappyConn struct {
	net.Conn
	w *snappy.Writer
	r *snappy.Reader
}

func (c *snappyConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *snappyConn) Write(p []byte) (int, error) {
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	if err := c.w.Flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

func block() (kcp.BlockCrypt, error) {
	pass := pbkdf2.Key([]byte(*key), []byte("kcp-go"), 4096, 32, sha1.New)
	if *crypt == "none" {
		return kcp.NewNoneBlockCrypt(pass)
	}
	return kcp.NewAESBlockCrypt(pass)
}

// tuned sets a kcp-go session up as kcptun does (stream mode, no write delay, its fast settings).
func tuned(s *kcp.UDPSession) net.Conn {
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetNoDelay(1, 10, 2, 1)
	s.SetWindowSize(1024, 1024)
	s.SetMtu(1350)
	if *comp {
		return &snappyConn{Conn: s, w: snappy.NewBufferedWriter(s), r: snappy.NewReader(s)}
	}
	return s
}

func dial(target string) (net.Conn, error) {
	if *transport != "kcp" {
		return net.DialTimeout("tcp", target, 10*time.Second)
	}
	b, err := block()
	if err != nil {
		return nil, err
	}
	s, err := kcp.DialWithOptions(target, b, *dataShard, *parityShard)
	if err != nil {
		return nil, err
	}
	return tuned(s), nil
}

type kcpListener struct{ *kcp.Listener }

func (l kcpListener) Accept() (net.Conn, error) {
	s, err := l.AcceptKCP()
	if err != nil {
		return nil, err
	}
	return tuned(s), nil
}

func listenOn(addr string) (net.Listener, error) {
	if *transport != "kcp" {
		return net.Listen("tcp", addr)
	}
	b, err := block()
	if err != nil {
		return nil, err
	}
	l, err := kcp.ListenWithOptions(addr, b, *dataShard, *parityShard)
	if err != nil {
		return nil, err
	}
	return kcpListener{l}, nil
}

type result struct {
	Streams int    `json:"streams"`
	Bytes   int64  `json:"bytes"`
	Ok      bool   `json:"ok"`
	Errors  int    `json:"errors"`
	Error   string `json:"error"`
}

func config(version int) *smux.Config {
	c := smux.DefaultConfig()
	c.Version = version
	return c
}

func main() {
	mode := flag.String("mode", "server", "server or client")
	listen := flag.String("listen", "127.0.0.1:0", "server: listen address")
	target := flag.String("target", "", "client: server address")
	version := flag.Int("version", 1, "smux protocol version")
	streams := flag.Int("streams", 16, "client: streams")
	size := flag.Int("bytes", 1<<20, "client: bytes echoed per stream")
	flag.Parse()

	switch *mode {
	case "server":
		serve(*listen, *version)
	case "client":
		res := run(*target, *version, *streams, *size)
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}
}

func serve(listen string, version int) {
	ln, err := listenOn(listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		// The test ends the peer by closing stdin.
		io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		os.Exit(0)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			sess, err := smux.Server(conn, config(version))
			if err != nil {
				conn.Close()
				return
			}
			for {
				s, err := sess.AcceptStream()
				if err != nil {
					return
				}
				go func() {
					io.Copy(s, s)
					s.Close()
				}()
			}
		}()
	}
}

func run(target string, version, streams, size int) result {
	res := result{Streams: streams}
	conn, err := dial(target)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	sess, err := smux.Client(conn, config(version))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer sess.Close()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := echo(sess, i, size)
			mu.Lock()
			defer mu.Unlock()
			res.Bytes += n
			if err != nil {
				res.Errors++
				res.Error = err.Error()
			}
		}(i)
	}
	wg.Wait()
	res.Ok = res.Errors == 0
	return res
}

// echo sends size seeded bytes on a new stream and checks that the same bytes come back (SHA-256).
func echo(sess *smux.Session, i, size int) (int64, error) {
	s, err := sess.OpenStream()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	data := make([]byte, size)
	rand.New(rand.NewSource(int64(i + 1))).Read(data)
	go s.Write(data)
	back := make([]byte, size)
	s.SetReadDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.ReadFull(s, back); err != nil {
		return 0, fmt.Errorf("stream %d: %v", s.ID(), err)
	}
	if sha256.Sum256(back) != sha256.Sum256(data) {
		return 0, fmt.Errorf("stream %d: echo differs", s.ID())
	}
	return int64(size), nil
}
