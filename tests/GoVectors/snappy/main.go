// Command snappy is golang/snappy's framing as kcptun's CompStream uses it (Debian's
// golang-github-golang-snappy-dev, GOPATH mode), for the tests to compare against:
//
//	snappy encode N1 N2 ...   stdin cut into writes of N1, N2, ... bytes (the rest as a last
//	                          write), each Write then Flush on a NewBufferedWriter; framed bytes to stdout
//	snappy decode             snappy.NewReader over stdin, decoded bytes to stdout; a format
//	                          error is printed on stderr with exit code 2
//	snappy bench SIZE ROUNDS [random]  ns per Write+Flush and per decode of SIZE compressible
//	                          (or random) bytes
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/ioutil"
	"math/rand"
	"os"
	"strconv"
	"time"

	"github.com/golang/snappy"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: snappy encode N... | decode | bench SIZE ROUNDS")
		os.Exit(1)
	}
	switch os.Args[1] {
	case "encode":
		encode(os.Args[2:])
	case "decode":
		out := bufio.NewWriter(os.Stdout)
		if _, err := io.Copy(out, snappy.NewReader(os.Stdin)); err != nil {
			out.Flush()
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		out.Flush()
	case "bench":
		bench(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(1)
	}
}

func encode(sizes []string) {
	input, err := ioutil.ReadAll(os.Stdin)
	check(err)
	w := snappy.NewBufferedWriter(os.Stdout)
	write := func(p []byte) {
		_, err := w.Write(p)
		check(err)
		check(w.Flush())
	}
	for _, s := range sizes {
		n, err := strconv.Atoi(s)
		check(err)
		if n > len(input) {
			n = len(input)
		}
		write(input[:n])
		input = input[n:]
	}
	if len(input) > 0 {
		write(input)
	}
}

// bench measures what kcptun does per write: Write+Flush of one buffer, and reading it back.
func bench(args []string) {
	size, err := strconv.Atoi(args[0])
	check(err)
	rounds, err := strconv.Atoi(args[1])
	check(err)
	data := compressible(size)
	if len(args) > 2 && args[2] == "random" {
		rand.New(rand.NewSource(1)).Read(data)
	}
	var framed bytes.Buffer
	w := snappy.NewBufferedWriter(&framed)
	start := time.Now()
	for i := 0; i < rounds; i++ {
		framed.Reset()
		w.Write(data)
		w.Flush()
	}
	encodeNs := float64(time.Since(start).Nanoseconds()) / float64(rounds)

	// One stream of many chunks, so the reader's setup is not measured.
	var stream bytes.Buffer
	w = snappy.NewBufferedWriter(&stream)
	for i := 0; i < rounds; i++ {
		w.Write(data)
		w.Flush()
	}
	r := snappy.NewReader(bytes.NewReader(stream.Bytes()))
	sink := make([]byte, size)
	start = time.Now()
	for i := 0; i < rounds; i++ {
		_, err := io.ReadFull(r, sink)
		check(err)
	}
	decodeNs := float64(time.Since(start).Nanoseconds()) / float64(rounds)
	fmt.Printf("size %d framed %d encode %.0f ns/op decode %.0f ns/op\n", size, framed.Len(), encodeNs, decodeNs)
}

// compressible is text-like data: words from a small vocabulary, as the tests' compressible input.
func compressible(n int) []byte {
	words := []string{"kcp ", "snappy ", "stream ", "kestrel ", "tunnel ", "frame ", "window ", "ack "}
	var b bytes.Buffer
	seed := uint32(1)
	for b.Len() < n {
		seed = seed*1664525 + 1013904223
		b.WriteString(words[seed>>29])
	}
	return b.Bytes()[:n]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
