#!/usr/bin/env python3
"""Spoofed-request amplification probe (issue #18).

Plays the victim of a reflection attack: sockets bound to BIND_IP (a loopback address other than the server's
client address, e.g. 127.0.0.2) each send ONE datagram, as an attacker spoofing that address would, and then
never answer (no ACK, ever) but count every byte the server sends them for DURATION seconds. Prints one JSON
line per kind of datagram: bytes sent/received (UDP payload) and the ratio.

Compatible mode (no CAPTURE): SOURCES sockets each send a KCP PUSH carrying `GET /plaintext`, built here.
Wire format (crypt none): [16-byte nonce][CRC32-IEEE LE of the rest][FEC header if FEC][KCP segment]
FEC data shard header: seqid u32 LE, type u16 LE 0xf1, size u16 LE = len(KCP bytes) + 2.
KCP segment header (24 bytes LE): conv u32, cmd u8 (81 = PUSH), frg u8, wnd u16, ts u32, sn u32, una u32, len u32.

AEAD modes (CAPTURE and KINDS given): sealed datagrams cannot be built without the key, so each kind in KINDS
(comma-separated: probe, token, request; see capture.py) gets SOURCES sockets, each sending the first datagram
of that kind a real client sent (recorded by capture.py against another serve with the same key).

Usage: spoof.py HOST PORT DURATION FEC(0|1) SOURCES BIND_IP [CAPTURE KINDS]
"""
import json, os, struct, sys, time, zlib

from victims import Victim, listen, load_capture, totals

host, port = sys.argv[1], int(sys.argv[2])
duration = float(sys.argv[3])
fec = sys.argv[4] == "1"
sources = int(sys.argv[5]) if len(sys.argv) > 5 else 1
bind_ip = sys.argv[6] if len(sys.argv) > 6 else "127.0.0.2"
capture = sys.argv[7] if len(sys.argv) > 7 else None
kinds = sys.argv[8].split(",") if len(sys.argv) > 8 else ["request"]
request = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"


def built_request(conv):
    kcp = struct.pack("<IBBHIIII", conv, 81, 0, 128, 0, 0, 0, len(request)) + request
    if fec:
        kcp = struct.pack("<IHH", 0, 0xF1, len(kcp) + 2) + kcp
    return os.urandom(16) + struct.pack("<I", zlib.crc32(kcp) & 0xFFFFFFFF) + kcp


captured = load_capture(capture) if capture else []
groups = {}
t0 = time.monotonic()
for kind in kinds:
    datagram = next((d for k, d in captured if k == kind), None) if capture else None
    if capture and datagram is None:
        sys.exit(f"spoof.py: the capture has no {kind} datagram")
    groups[kind] = [Victim(bind_ip, (host, port), kind) for _ in range(sources)]
    for v in groups[kind]:
        v.send(datagram or built_request(struct.unpack("<I", os.urandom(4))[0]))
listen([v for g in groups.values() for v in g], duration, t0)
for kind, victims in groups.items():
    row = {"case": "amplification", "fec": "10/3" if fec else "0/0", "sources": sources, "seconds": duration}
    if capture:
        row["kind"] = kind
    print(json.dumps(row | totals(victims)))
