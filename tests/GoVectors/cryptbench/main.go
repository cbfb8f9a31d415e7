// Command cryptbench measures kcp-go 5.6.1's packet ciphers the way its crypt_test.go
// benchCrypt does (Encrypt + Decrypt of one buffer, MB/s counting both), on 1400-byte
// datagrams to match our BenchmarkDotNet run, plus the full sess.go send/receive work
// (nonce fill + crc32 + encrypt, decrypt + crc32) and aes-128-gcm as kcp-go's 2025 AEAD
// mode does it (random nonce, Seal/Open in place). Run:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run .
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/pbkdf2"
)

const size = 1400

type mode struct {
	name   string
	keyLen int
	make   func(key []byte) (kcp.BlockCrypt, error)
}

var modes = []mode{
	{"aes", 32, kcp.NewAESBlockCrypt},
	{"aes-128", 16, kcp.NewAESBlockCrypt},
	{"aes-192", 24, kcp.NewAESBlockCrypt},
	{"salsa20", 32, kcp.NewSalsa20BlockCrypt},
	{"blowfish", 32, kcp.NewBlowfishBlockCrypt},
	{"twofish", 32, kcp.NewTwofishBlockCrypt},
	{"cast5", 16, kcp.NewCast5BlockCrypt},
	{"3des", 24, kcp.NewTripleDESBlockCrypt},
	{"tea", 16, kcp.NewTEABlockCrypt},
	{"xtea", 16, kcp.NewXTEABlockCrypt},
	{"xor", 32, kcp.NewSimpleXORBlockCrypt},
	{"sm4", 16, kcp.NewSM4BlockCrypt},
	{"none", 32, kcp.NewNoneBlockCrypt},
}

func report(name string, r testing.BenchmarkResult) {
	ns := float64(r.T.Nanoseconds()) / float64(r.N)
	fmt.Printf("%-22s %10.1f ns/op %9.1f MB/s %4d B/op\n", name, ns, 2*size*1000/ns, r.AllocedBytesPerOp())
}

func main() {
	pass := pbkdf2.Key([]byte("benchmark"), []byte("kcp-go"), 4096, 32, sha1.New)
	for _, m := range modes {
		bc, _ := m.make(pass[:m.keyLen])
		data := make([]byte, size)
		rand.Read(data)
		enc := make([]byte, size)
		dec := make([]byte, size)
		// crypt_test.go's benchCrypt, verbatim in spirit.
		report(m.name+" (benchCrypt)", testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				bc.Encrypt(enc, data)
				bc.Decrypt(dec, enc)
			}
		}))
		// What sess.go does per datagram: nonce + crc32 + encrypt; decrypt + crc32 check.
		buf := make([]byte, size)
		rand.Read(buf)
		report(m.name+" (session)", testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				nonce.fill(buf[:16])
				binary.LittleEndian.PutUint32(buf[16:], crc32.ChecksumIEEE(buf[20:]))
				bc.Encrypt(buf, buf)
				bc.Decrypt(buf, buf)
				if crc32.ChecksumIEEE(buf[20:]) != binary.LittleEndian.Uint32(buf[16:]) {
					panic("crc")
				}
			}
		}))
	}
	aeads := []struct {
		name   string
		keyLen int
		make   func(k []byte) cipher.AEAD
	}{
		{"aes-128-gcm", 16, gcm},
		{"aes-256-gcm", 32, gcm},
		{"chacha20-poly1305", 32, func(k []byte) cipher.AEAD { a, _ := chacha20poly1305.New(k); return a }},
	}
	for _, a := range aeads {
		aead := a.make(pass[:a.keyLen])
		buf := make([]byte, size)
		rand.Read(buf)
		plain := size - 12 - 16
		report(a.name+" (session)", testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				nonce.fill(buf[:12])
				aead.Seal(buf[12:12], buf[:12], buf[12:12+plain], nil)
				if _, err := aead.Open(buf[12:12], buf[:12], buf[12:], nil); err != nil {
					panic(err)
				}
			}
		}))
	}
	fmt.Printf("crc32 alone: ")
	content := make([]byte, size)
	r := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			crc32.ChecksumIEEE(content)
		}
	})
	fmt.Printf("%.1f ns/op\n", float64(r.T.Nanoseconds())/float64(r.N))
}

// nonceGen mirrors kcp-go's nonceAES128 (entropy.go, unexported): AES-128 over its own seed.
type nonceGen struct {
	seed  [16]byte
	block cipher.Block
}

func newNonceGen() *nonceGen {
	var key [16]byte
	rand.Read(key[:])
	n := new(nonceGen)
	rand.Read(n.seed[:])
	n.block, _ = aes.NewCipher(key[:])
	return n
}

func (n *nonceGen) fill(nonce []byte) {
	if n.seed[0] == 0 {
		rand.Read(n.seed[:])
	}
	n.block.Encrypt(n.seed[:], n.seed[:])
	copy(nonce, n.seed[:])
}

var nonce = newNonceGen()

func gcm(k []byte) cipher.AEAD {
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return a
}
