// Command reedsolomon prints parity vectors from klauspost/reedsolomon's default New(k, m) encoder.
//
// Data is deterministic: byte j of data shard i of case c is splitmix64(seed(c)) output bytes, in order.
// Small cases print every parity byte (hex); large ones print the SHA-256 of all parity shards concatenated.
//
//	cd tests/GoVectors/reedsolomon && GO111MODULE=off GOPATH=/usr/share/gocode go run . > ../../KcpKestrel.Core.Tests/Fec/TestData/reedsolomon.txt
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func main() {
	cases := []struct{ k, m, size int }{
		{1, 1, 5}, {3, 2, 17}, {4, 2, 1}, {10, 3, 31}, {10, 3, 1400}, {10, 3, 1401},
		{20, 10, 333}, {5, 5, 64}, {17, 3, 97}, {128, 128, 1001}, {200, 56, 129}, {255, 1, 33},
	}
	fmt.Println("# k m size seed kind value (kind: hex = all parity bytes, sha256 = hash of parity shards concatenated)")
	for c, tc := range cases {
		seed := uint64(c + 1)
		rng := splitmix{seed}
		shards := make([][]byte, tc.k+tc.m)
		for i := range shards {
			shards[i] = make([]byte, tc.size)
		}
		for i := 0; i < tc.k; i++ {
			for j := 0; j < tc.size; j += 8 {
				v := rng.next()
				for b := 0; b < 8 && j+b < tc.size; b++ {
					shards[i][j+b] = byte(v >> (8 * b))
				}
			}
		}
		enc, err := reedsolomon.New(tc.k, tc.m)
		if err != nil {
			panic(err)
		}
		if err := enc.Encode(shards); err != nil {
			panic(err)
		}
		var all []byte
		for _, p := range shards[tc.k:] {
			all = append(all, p...)
		}
		if len(all) <= 256 {
			fmt.Printf("%d %d %d %d hex %s\n", tc.k, tc.m, tc.size, seed, hex.EncodeToString(all))
		} else {
			h := sha256.Sum256(all)
			fmt.Printf("%d %d %d %d sha256 %s\n", tc.k, tc.m, tc.size, seed, hex.EncodeToString(h[:]))
		}
	}
}
