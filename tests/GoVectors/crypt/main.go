// Command crypt prints known-answer vectors for every kcp-go packet cipher, built on
// Debian's kcp-go 5.6.1 (GOPATH mode). Each line:
//
//	mode keyhex noncehex payloadhex datagramhex
//
// key is the kcptun-derived key truncated for the mode, nonce the header nonce the
// sender used, payload the bytes after the crypto header, datagram what goes on the wire.
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"

	kcp "github.com/xtaci/kcp-go"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/pbkdf2"
)

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

var lengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 127, 128, 129, 300, 1000, 1380}

const password = "it's a secrect"

func filler(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	h := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return out[:n]
}

func main() {
	pass := pbkdf2.Key([]byte(password), []byte("kcp-go"), 4096, 32, sha1.New)
	w := os.Stdout
	for _, m := range modes {
		key := pass[:m.keyLen]
		bc, err := m.make(key)
		if err != nil {
			panic(err)
		}
		for _, n := range lengths {
			nonce := filler(fmt.Sprintf("nonce/%s/%d", m.name, n), 16)
			payload := filler(fmt.Sprintf("payload/%s/%d", m.name, n), n)
			buf := make([]byte, 20+n)
			copy(buf, nonce)
			copy(buf[20:], payload)
			binary.LittleEndian.PutUint32(buf[16:], crc32.ChecksumIEEE(buf[20:]))
			bc.Encrypt(buf, buf)
			fmt.Fprintf(w, "%s %x %x %x %x\n", m.name, key, nonce, payload, buf)
		}
	}
	// "null": no header at all, the payload is the datagram.
	for _, n := range []int{0, 24, 100} {
		payload := filler(fmt.Sprintf("payload/null/%d", n), n)
		fmt.Fprintf(w, "null %x %x %x %x\n", pass, []byte{}, payload, payload)
	}
	// aes-128-gcm as kcp-go added it (PR #324): nonce[12] | seal(payload) | tag[16], no AAD.
	// ours: aes-256-gcm and chacha20-poly1305 with the same layout; the nonce is
	// sender prefix (4 bytes) | counter (8 bytes, little-endian).
	aeads := []struct {
		name   string
		keyLen int
		make   func(key []byte) cipher.AEAD
	}{
		{"aes-128-gcm", 16, gcm},
		{"aes-256-gcm", 32, gcm},
		{"chacha20-poly1305", 32, func(key []byte) cipher.AEAD {
			a, err := chacha20poly1305.New(key)
			if err != nil {
				panic(err)
			}
			return a
		}},
	}
	for _, a := range aeads {
		key := pass[:a.keyLen]
		aead := a.make(key)
		for i, n := range lengths {
			nonce := filler(fmt.Sprintf("nonce/%s/%d", a.name, n), 12)
			if a.name != "aes-128-gcm" {
				binary.LittleEndian.PutUint64(nonce[4:], 1000+uint64(i))
			}
			payload := filler(fmt.Sprintf("payload/%s/%d", a.name, n), n)
			out := append([]byte{}, nonce...)
			out = aead.Seal(out, nonce, payload, nil)
			fmt.Fprintf(w, "%s %x %x %x %x\n", a.name, key, nonce, payload, out)
		}
	}
	_ = hex.EncodeToString
}

func gcm(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}
