#!/usr/bin/env python3
"""Replays of captured AEAD datagrams from new source ports (issue #18).

Takes the client-to-server datagrams capture.py recorded (the dial's probe, the TOKEN echoing a valid address
token, the HTTP requests, acks) and sends each of them once from each of PORTS new sockets (bound to port 0
on each BIND_IP in turn: other ports and other addresses than the token was minted for), then counts every
byte the server sends back to those sockets for WAIT seconds. A replay must open no session (the token binds
address and port) and draw at most one RETRY no larger than the datagram. Prints one JSON line.

Usage: replay.py HOST PORT CAPTURE.json PORTS WAIT BIND_IP[,BIND_IP...]
"""
import json, sys, time

from victims import Victim, listen, load_capture, totals

host, port, capture, ports, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
bind_ips = sys.argv[6].split(",")
datagrams = load_capture(capture)
age = time.time() - json.load(open(capture))["finished"]
victims = [Victim(bind_ips[i % len(bind_ips)], (host, port)) for i in range(ports)]
t0 = time.monotonic()
for v in victims:
    for _, d in datagrams:
        v.send(d)
send_seconds = time.monotonic() - t0
listen(victims, wait, t0)
kinds = {}
for k, d in datagrams:
    kinds[k] = kinds.get(k, 0) + 1
print(json.dumps({"case": "replay", "ports": ports, "bind_ips": bind_ips, "captured_datagrams": len(datagrams),
                  "captured_kinds": kinds, "capture_age_s": round(age, 2), "send_seconds": round(send_seconds, 2),
                  "wait_s": wait} | totals(victims)))
