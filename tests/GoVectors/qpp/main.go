// Command qpp prints known-answer vectors of xtaci/qpp as kcptun applies it (std.QPPPort): the
// pads NewQPP derives from a key and a pad count, the PRNG state CreatePRNG derives from the same
// key, and the bytes EncryptWithPRNG / DecryptWithPRNG produce for a stream cut into writes of
// several sizes. Its output is tests/GoVectors/qpp/vectors.json; the C# tests compare against it.
//
// Generated from qpp v1.1.25 exactly as kcptun vendors it (github.com/xtaci/kcptun commit
// f788cbbd915db9f2fddd4fa23fe9883b14f3f6cb, vendor/github.com/xtaci/qpp; qpp.go there is qpp's
// v1.1.24 tag, 12027e0, with the hot loops unrolled). qpp is not in Debian, and its source needs
// Go 1.22 for three loops, so it was built once with Debian's Go 1.19 after a syntax-only rewrite
// (range-over-int loops to counted loops, unsafe.SliceData(s) to &s[0]):
//
//	mkdir -p /tmp/gopath/src/github.com/xtaci/qpp && cd /tmp/gopath/src/github.com/xtaci/qpp
//	for f in qpp.go prng.go pkg.go; do git --git-dir=<kcptun mirror> show \
//	    f788cbbd915db9f2fddd4fa23fe9883b14f3f6cb:vendor/github.com/xtaci/qpp/$f > $f; done
//	sed -i -e 's/unsafe\.SliceData(\(qpp\.r\?pads\))/\&\1[0]/' \
//	    -e 's/for i := range int(numPads) {/for i := 0; i < int(numPads); i++ {/' \
//	    -e 's/for j := range 32 {/for j := 0; j < 32; j++ {/' qpp.go
//	cd <repo>/tests/GoVectors/qpp && GO111MODULE=off GOPATH=/tmp/gopath:/usr/share/gocode \
//	    go run . > vectors.json
//
// "go run . bench SIZE ROUNDS" prints ns per EncryptWithPRNG and per DecryptWithPRNG of SIZE bytes
// with kcptun's default 61 pads, for benchmarks/KcpKestrel.Benchmarks' QppBenchmarks.
//
// golang.org/x/crypto/pbkdf2 comes from Debian (golang-golang-x-crypto-dev). The pads and the PRNG
// state are unexported in qpp, so they are read here through reflection, without changing qpp.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/xtaci/qpp"
)

type prngState struct {
	Xoshiro [4]string `json:"xoshiro"`
	Seed64  string    `json:"seed64"`
}

type stream struct {
	Name      string `json:"name"`
	Direction string `json:"direction"` // "encrypt" (a QPPPort's Write) or "decrypt" (its Read)
	Writes    []int  `json:"writes"`    // the input cut into calls of these sizes, the rest as one last call
	Input     string `json:"input"`
	Output    string `json:"output"`
}

type vectorCase struct {
	Name     string    `json:"name"`
	Key      string    `json:"key"` // hex of the seed: kcptun passes []byte(--key)
	PadCount int       `json:"padCount"`
	Pads     string    `json:"pads"` // hex, padCount permutations of 256 bytes each
	Prng     prngState `json:"prng"`
	Streams  []stream  `json:"streams"`
}

type vectors struct {
	Source string       `json:"source"`
	Cases  []vectorCase `json:"cases"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		bench(os.Args[2:])
		return
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = byte(i*7 + 3)
	}
	configs := []struct {
		name  string
		key   []byte
		count int
	}{
		{"kcptun defaults", []byte("it's a secrect"), 61},
		{"300-byte key, 7 pads", long, 7},
		{"32-byte key, 1 pad", []byte("0123456789abcdef0123456789abcdef"), 1},
		{"one-byte key, 2 pads", []byte{0}, 2},
		{"65-byte key, 257 pads", long[:65], 257},
		{"empty key, 3 pads", []byte{}, 3},
	}

	out := vectors{Source: "xtaci/qpp v1.1.25 as vendored by xtaci/kcptun f788cbbd915db9f2fddd4fa23fe9883b14f3f6cb"}
	for _, c := range configs {
		pad := qpp.NewQPP(c.key, uint16(c.count))
		vc := vectorCase{
			Name:     c.name,
			Key:      hex.EncodeToString(c.key),
			PadCount: c.count,
			Pads:     hex.EncodeToString(unexported(pad, "pads").Bytes()),
			Prng:     state(qpp.CreatePRNG(c.key)),
		}
		plain := make([]byte, 600)
		for i := range plain {
			plain[i] = byte(i * 31 / 7)
		}
		cipherIn := make([]byte, 600)
		x := uint32(2463534242)
		for i := range cipherIn {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			cipherIn[i] = byte(x)
		}
		writeSets := []struct {
			name   string
			writes []int
		}{
			{"one call", nil},
			{"byte at a time for 20, then 8-aligned", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 16, 24}},
			{"odd sizes", []int{3, 5, 7, 9, 15, 17, 31, 33, 100, 1, 0, 200}},
			{"8 then 7 then 9", []int{8, 7, 9, 8, 16, 1}},
		}
		for _, ws := range writeSets {
			vc.Streams = append(vc.Streams, run(pad, c.key, "encrypt", ws.name, ws.writes, plain))
			vc.Streams = append(vc.Streams, run(pad, c.key, "decrypt", ws.name, ws.writes, cipherIn))
		}
		out.Cases = append(out.Cases, vc)
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run pushes input through a fresh PRNG from key, as one direction of a new kcptun stream does.
func run(pad *qpp.QuantumPermutationPad, key []byte, direction, name string, writes []int, input []byte) stream {
	data := append([]byte(nil), input...)
	rand := qpp.CreatePRNG(key)
	apply := pad.EncryptWithPRNG
	if direction == "decrypt" {
		apply = pad.DecryptWithPRNG
	}
	rest := data
	for _, n := range writes {
		if n > len(rest) {
			n = len(rest)
		}
		apply(rest[:n], rand)
		rest = rest[n:]
	}
	if len(rest) > 0 {
		apply(rest, rand)
	}
	return stream{Name: name, Direction: direction, Writes: writes, Input: hex.EncodeToString(input), Output: hex.EncodeToString(data)}
}

func state(r *qpp.Rand) prngState {
	x := unexported(r, "xoshiro")
	var s prngState
	for i := 0; i < 4; i++ {
		s.Xoshiro[i] = fmt.Sprintf("%016x", x.Index(i).Uint())
	}
	s.Seed64 = fmt.Sprintf("%016x", unexported(r, "seed64").Uint())
	return s
}

// unexported reads a field qpp does not export, without writing to it.
func unexported(ptr interface{}, field string) reflect.Value {
	f := reflect.ValueOf(ptr).Elem().FieldByName(field)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func bench(args []string) {
	size, err := strconv.Atoi(args[0])
	check(err)
	rounds, err := strconv.Atoi(args[1])
	check(err)
	key := []byte("it's a secrect")
	pad := qpp.NewQPP(key, 61)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 13)
	}
	w, r := qpp.CreatePRNG(key), qpp.CreatePRNG(key)
	start := time.Now()
	for i := 0; i < rounds; i++ {
		pad.EncryptWithPRNG(data, w)
	}
	enc := time.Since(start)
	start = time.Now()
	for i := 0; i < rounds; i++ {
		pad.DecryptWithPRNG(data, r)
	}
	dec := time.Since(start)
	fmt.Printf("size %d: encrypt %.0f ns (%.0f MB/s), decrypt %.0f ns (%.0f MB/s)\n", size,
		float64(enc.Nanoseconds())/float64(rounds), float64(size)*float64(rounds)/enc.Seconds()/1e6,
		float64(dec.Nanoseconds())/float64(rounds), float64(size)*float64(rounds)/dec.Seconds()/1e6)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
