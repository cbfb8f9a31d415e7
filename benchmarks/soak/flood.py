#!/usr/bin/env python3
"""Flood a UDP port with random datagrams from many fresh source ports.

Each of SOCKETS sockets gets its own ephemeral source port, so the server sees SOCKETS new endpoints;
the payload is random bytes, which fail the server's packet check (cipher + CRC) and must be dropped
without creating sessions. Runs for DURATION seconds as fast as one Python thread can send, then prints
one JSON line with the datagram count and rate.
"""
import json, os, socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
nsock = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
size = int(sys.argv[5]) if len(sys.argv) > 5 else 100

socks = []
for _ in range(nsock):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect((host, port))
    socks.append(s)

payloads = [os.urandom(size) for _ in range(256)]
sent = dropped = 0
t0 = time.monotonic()
deadline = t0 + duration
i = 0
while True:
    # check the clock once per sweep over all sockets: cheap enough to keep the send loop tight
    if time.monotonic() >= deadline:
        break
    for s in socks:
        try:
            s.send(payloads[i & 255])
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            dropped += 1
        i += 1
elapsed = time.monotonic() - t0
for s in socks:
    s.close()
print(json.dumps({"sockets": nsock, "size": size, "seconds": round(elapsed, 2), "sent": sent,
                  "send_errors": dropped, "pps": round(sent / elapsed)}))
