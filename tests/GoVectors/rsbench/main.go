// Command rsbench measures klauspost/reedsolomon (Debian's copy) on the shapes our
// ReedSolomonBenchmarks use: 10+3 x 1400-byte shards, Encode and ReconstructData with 3 data shards lost.
//
//	cd tests/GoVectors/rsbench && GO111MODULE=off GOPATH=/usr/share/gocode go run .
package main

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/klauspost/reedsolomon"
)

func main() {
	const k, m, size = 10, 3, 1400
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		panic(err)
	}
	shards := make([][]byte, k+m)
	rng := rand.New(rand.NewSource(1))
	for i := range shards {
		shards[i] = make([]byte, size)
		rng.Read(shards[i])
	}
	if err := enc.Encode(shards); err != nil {
		panic(err)
	}
	report := func(name string, r testing.BenchmarkResult) {
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		fmt.Printf("%-22s %10.1f ns/op %9.1f MB/s (data bytes) %d B/op %d allocs/op\n",
			name, ns, float64(k*size)/ns*1e3, r.AllocedBytesPerOp(), r.AllocsPerOp())
	}
	report("Encode10x3x1400", testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = enc.Encode(shards)
		}
	}))
	work := make([][]byte, k+m)
	report("ReconstructData3Lost", testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			copy(work, shards)
			work[1], work[4], work[8] = work[1][:0], work[4][:0], work[8][:0]
			_ = enc.ReconstructData(work)
		}
	}))
}
