#!/usr/bin/env python3
"""Spoofed-request amplification probe (issue #18).

Plays the victim of a reflection attack: each of SOURCES sockets, bound to BIND_IP (a loopback address other
than the server's client address, e.g. 127.0.0.2), sends ONE KCP PUSH datagram carrying an HTTP request, as an
attacker spoofing that address would, and then never answers (no ACK, ever) but counts every byte the server
sends it for DURATION seconds. Prints one JSON line: bytes sent/received (UDP payload) and the ratio.

Wire format (crypt none): [16-byte nonce][CRC32-IEEE LE of the rest][FEC header if FEC][KCP segment]
FEC data shard header: seqid u32 LE, type u16 LE 0xf1, size u16 LE = len(KCP bytes) + 2.
KCP segment header (24 bytes LE): conv u32, cmd u8 (81 = PUSH), frg u8, wnd u16, ts u32, sn u32, una u32, len u32.
"""
import json, os, select, socket, struct, sys, time, zlib

host, port = sys.argv[1], int(sys.argv[2])
duration = float(sys.argv[3])
fec = sys.argv[4] == "1"
sources = int(sys.argv[5]) if len(sys.argv) > 5 else 1
bind_ip = sys.argv[6] if len(sys.argv) > 6 else "127.0.0.2"
request = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"


def datagram(conv):
    kcp = struct.pack("<IBBHIIII", conv, 81, 0, 128, 0, 0, 0, len(request)) + request
    if fec:
        kcp = struct.pack("<IHH", 0, 0xF1, len(kcp) + 2) + kcp
    return os.urandom(16) + struct.pack("<I", zlib.crc32(kcp) & 0xFFFFFFFF) + kcp


socks = []
sent = 0
for _ in range(sources):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((bind_ip, 0))
    s.setblocking(False)
    d = datagram(struct.unpack("<I", os.urandom(4))[0])
    s.sendto(d, (host, port))
    sent += len(d)
    socks.append(s)

received = datagrams = 0
last = None
t0 = time.monotonic()
deadline = t0 + duration
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        break
    ready, _, _ = select.select(socks, [], [], min(left, 0.5))
    for s in ready:
        while True:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                break
            received += len(data)
            datagrams += 1
            last = time.monotonic() - t0
for s in socks:
    s.close()
print(json.dumps({"case": "amplification", "fec": "10/3" if fec else "0/0", "sources": sources,
                  "seconds": duration, "bytes_sent": sent, "datagrams_sent": sources,
                  "bytes_received": received, "datagrams_received": datagrams,
                  "last_reply_s": None if last is None else round(last, 2),
                  "ratio": round(received / sent, 3),
                  "ratio_with_ip_udp_headers": round((received + 28 * datagrams) / (sent + 28 * sources), 3)}))
