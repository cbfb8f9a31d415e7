#!/usr/bin/env python3
"""Hostile-session memory probe (issue #18, memory budget).

Opens SESSIONS KCP sessions (one UDP socket each) against `kcpkestrel serve --crypt none` and makes each try to
hold as much of the server's memory as it can: it sends every sn from 1 to SEGMENTS (full 1376-byte segments)
but never sn 0, so nothing can be delivered to the app and KCP would keep it all in its receive buffer; and it
sends them as FEC data shards in groups of a shape of its own (data 2..31, parity 1..5, parity shards in place),
so the server's FEC auto-tuner asks for a Reed-Solomon codec per shape and keeps partial groups. Bounded: sends
for at most SECONDS, paced in rounds of ROUND segments per session, then stops. Prints one JSON line.

Wire format (crypt none): [16-byte nonce][CRC32-IEEE LE of the rest][FEC header][KCP segment]
FEC data shard: seqid u32 LE, type u16 LE 0xf1, size u16 LE = len(KCP bytes) + 2, KCP bytes.
FEC parity shard: seqid u32 LE, type u16 LE 0xf2, bytes (as long as the group's data shards).
KCP segment header (24 bytes LE): conv u32, cmd u8 (81 = PUSH), frg u8, wnd u16, ts u32, sn u32, una u32, len u32.

Usage: hostile.py HOST PORT SECONDS SESSIONS SEGMENTS [ROUND]
"""
import json, os, socket, struct, sys, time, zlib

host, port = sys.argv[1], int(sys.argv[2])
seconds = float(sys.argv[3])
sessions = int(sys.argv[4])
segments = int(sys.argv[5])
round_size = int(sys.argv[6]) if len(sys.argv) > 6 else 50
PAYLOAD = 1376
payload = os.urandom(PAYLOAD)
parity = os.urandom(2 + 24 + PAYLOAD)  # as long as a data shard (size field + segment)
target = (host, port)


def seal(body):
    return os.urandom(16) + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF) + body


class Session:
    def __init__(self, i):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.conv = struct.unpack("<I", os.urandom(4))[0]
        self.data, self.parity = 2 + i % 30, 1 + i % 5
        self.seqid = 0
        self.sn = 1  # never 0: rcv_nxt stays 0, so everything would be held

    def send_round(self, count):
        sent = 0
        period = self.data + self.parity
        while count > 0 and self.sn <= segments:
            index = self.seqid % period
            if index < self.data:
                kcp = struct.pack("<IBBHIIII", self.conv, 81, 0, 1024, 0, self.sn, 0, PAYLOAD) + payload
                body = struct.pack("<IHH", self.seqid, 0xF1, len(kcp) + 2) + kcp
                self.sn += 1
                count -= 1
            else:
                body = struct.pack("<IH", self.seqid, 0xF2) + parity
            self.seqid += 1
            try:
                self.sock.sendto(seal(body), target)
                sent += 1
            except (BlockingIOError, OSError):
                pass
        return sent


all_sessions = [Session(i) for i in range(sessions)]
t0 = time.monotonic()
datagrams = 0
while time.monotonic() - t0 < seconds and any(s.sn <= segments for s in all_sessions):
    for s in all_sessions:
        datagrams += s.send_round(round_size)
    time.sleep(0.01)
elapsed = time.monotonic() - t0
for s in all_sessions:
    s.sock.close()
print(json.dumps({"case": "hostile", "sessions": sessions, "segments_per_session": segments,
                  "datagrams_sent": datagrams, "send_seconds": round(elapsed, 2),
                  "shapes": len({(s.data, s.parity) for s in all_sessions}),
                  "bytes_each_would_hold": segments * 2048}))
