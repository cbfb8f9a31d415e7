package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

// tunedListener hands net/http each accepted session with the peer's KCP settings applied.
type tunedListener struct{ *kcp.Listener }

func (l tunedListener) Accept() (net.Conn, error) {
	s, err := l.AcceptKCP()
	if err != nil {
		return nil, err
	}
	tune(s)
	return s, nil
}

// serveHTTP answers GET /plaintext as kcpkestrel serve --app http does, over KCP sessions (one per connection).
func serveHTTP(l *kcp.Listener) error {
	mux := http.NewServeMux()
	body := []byte("Hello, World!")
	mux.HandleFunc("/plaintext", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	return http.Serve(tunedListener{l}, mux)
}

// httpWorkload sends -count GETs of /plaintext from -concurrency callers sharing at most as many connections,
// each a KCP session, and times each request (kcpkestrel bench --workload http's shape).
func httpWorkload(block kcp.BlockCrypt) result {
	transport := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			s, err := kcp.DialWithOptions(*target, block, *dataShard, *parityShard)
			if err != nil {
				return nil, err
			}
			tune(s)
			return s, nil
		},
		MaxConnsPerHost:     *concurrency,
		MaxIdleConnsPerHost: *concurrency,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: *timeout}
	var next int64
	var mu sync.Mutex
	var firstErr error
	var bytes int64
	rtts := make([]float64, 0, *count)
	var wg sync.WaitGroup
	for c := 0; c < *concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(*count) {
				t := time.Now()
				resp, err := client.Get("http://kcp/plaintext")
				var n int
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					n = len(b)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				rtts = append(rtts, float64(time.Since(t).Microseconds()))
				bytes += int64(n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return latencyResult(rtts, bytes, firstErr)
}

// latencyResult is the JSON of a request workload (http, grpc): the first error, or the bytes and the
// round-trip percentiles of every request.
func latencyResult(rtts []float64, bytes int64, firstErr error) result {
	if firstErr != nil {
		return result{Error: firstErr.Error(), Errors: 1}
	}
	sort.Float64s(rtts)
	return result{
		Bytes:  bytes,
		P50us:  rtts[len(rtts)/2],
		P99us:  rtts[len(rtts)*99/100],
		P999us: rtts[len(rtts)*999/1000],
		OK:     true,
	}
}
