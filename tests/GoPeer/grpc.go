//go:build grpc
// +build grpc

// The gRPC app and workload, built only with -tags grpc on Debian's golang-google-grpc-dev (the interop tests build
// the peer without it, so CI needs no gRPC):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -tags grpc -o kcppeer .
//
// No generated code and no protoc: a raw codec carries each message's protobuf bytes as they are. kcpkestrel's
// echo.proto has one message, Payload { bytes data = 1; }, so a request is 0x0a, varint(length), data, and an echo
// of those bytes is a valid reply.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	kcp "github.com/xtaci/kcp-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// unaryMethod is kcpkestrel serve --app grpc's only method (package kcpkestrel.bench, service Echo).
const unaryMethod = "/kcpkestrel.bench.Echo/Unary"

// rawCodec replaces the registered "proto" codec: gRPC's default content subtype, so both ends pick it without
// any option. Messages are *[]byte.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func init() {
	encoding.RegisterCodec(rawCodec{})
	serveGRPC = func(l *kcp.Listener) error {
		server := grpc.NewServer(grpc.UnknownServiceHandler(echoGRPC))
		return server.Serve(tunedListener{l})
	}
	grpcWorkload = runGRPC
}

// echoGRPC answers every call of every method with its request's bytes (a unary call is one message each way).
func echoGRPC(_ interface{}, stream grpc.ServerStream) error {
	var msg []byte
	if err := stream.RecvMsg(&msg); err != nil {
		return err
	}
	return stream.SendMsg(&msg)
}

// payloadMessage is the protobuf encoding of Payload{data} for call i: its number, then bytes that differ per call.
func payloadMessage(i, size int) []byte {
	data := make([]byte, size)
	for j := range data {
		data[j] = byte(i + j)
	}
	binary.LittleEndian.PutUint32(data, uint32(i))
	msg := []byte{0x0a}
	msg = binary.AppendUvarint(msg, uint64(size))
	return append(msg, data...)
}

// runGRPC sends -count unary calls of -size bytes from -concurrency callers over one gRPC connection (one KCP
// session, as a channel is one HTTP/2 connection), checks every reply and times each call (kcpkestrel bench
// --workload grpc's shape).
func runGRPC(block kcp.BlockCrypt) result {
	dial := func(context.Context, string) (net.Conn, error) {
		s, err := kcp.DialWithOptions(*target, block, *dataShard, *parityShard)
		if err != nil {
			return nil, err
		}
		tune(s)
		return s, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "passthrough:///"+*target, grpc.WithInsecure(), grpc.WithContextDialer(dial))
	if err != nil {
		return result{Error: err.Error(), Errors: 1}
	}
	defer conn.Close()
	var next int64
	var mu sync.Mutex
	var firstErr error
	var received int64
	rtts := make([]float64, 0, *count)
	var wg sync.WaitGroup
	for c := 0; c < *concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(*count) {
					return
				}
				req := payloadMessage(int(i), *size)
				var reply []byte
				t := time.Now()
				err := conn.Invoke(ctx, unaryMethod, &req, &reply)
				if err == nil && !bytes.Equal(req, reply) {
					err = fmt.Errorf("call %d: the reply (%d bytes) is not the request (%d bytes)", i, len(reply), len(req))
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
				received += int64(*size)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return latencyResult(rtts, received, firstErr)
}
