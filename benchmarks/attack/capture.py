#!/usr/bin/env python3
"""Capturing UDP forwarder for the replay and AEAD amplification cases (issue #18).

Runs a real client (CMD, with {target} replaced by this forwarder's address) through a forwarder in front of
HOST:PORT and records every datagram both ways. Each client source port gets its own upstream socket, as a
NAT would, so the server sees one address per dial. Sealed datagrams cannot be read without the key; the kind
of each client datagram is told from its order and size (AEAD overhead: 12-byte nonce + 16-byte tag):

  probe    a client datagram before the server's first reply (the dial's token-less TOKEN, 96 bytes)
  token    the first client datagram after a 72-byte reply (the RETRY): the TOKEN echoing a valid token
  request  the first later datagram big enough to carry data (an HTTP request, with --app http)
  other    the rest (acks, window probes, more data)

With OWN_REPLAY_AT > 0, that many seconds after the first datagram (the client still running) every client
datagram recorded so far is resent once from its own upstream socket: the address and port the server knows,
where the session's replay window must drop it (counted `replay`) and the client must not notice.

Usage: capture.py HOST PORT OUT.json OWN_REPLAY_AT -- CMD...   (prints one JSON line; exits with CMD's code)
"""
import json, select, socket, subprocess, sys, time

RETRY_SIZE = 72
DATA_MIN = 12 + 16 + 24 + 32  # nonce + tag + one segment header + a payload no ack or probe carries

host, port, out, own_replay_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
command = sys.argv[sys.argv.index("--") + 1:]
server = (host, port)

front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
front.setblocking(False)
target = "%s:%d" % front.getsockname()
upstream = {}  # client address -> socket toward the server
client_of = {}  # upstream fileno -> client address
records = []
state = {"retried": set(), "token": set(), "request": set()}
t0 = None
own = {"at": None, "datagrams": 0, "bytes": 0}


def kind_of(client, size):
    if client not in state["retried"]:
        return "probe"
    if client not in state["token"]:
        state["token"].add(client)
        return "token"
    if client not in state["request"] and size >= DATA_MIN:
        state["request"].add(client)
        return "request"
    return "other"


def record(direction, client, data, kind):
    records.append({"dir": direction, "t": round(time.monotonic() - t0, 4), "client": "%s:%d" % client,
                    "kind": kind, "len": len(data), "hex": data.hex()})


def replay_own():
    for r in [r for r in records if r["dir"] == "c2s"]:
        host_, port_ = r["client"].rsplit(":", 1)
        data = bytes.fromhex(r["hex"])
        upstream[(host_, int(port_))].sendto(data, server)
        own["datagrams"] += 1
        own["bytes"] += len(data)
    own["at"] = round(time.monotonic() - t0, 3)


client = subprocess.Popen([a.replace("{target}", target) for a in command], stdout=subprocess.PIPE, text=True)
while True:
    ready, _, _ = select.select([front, *upstream.values()], [], [], 0.05)
    for s in ready:
        while True:
            try:
                data, source = s.recvfrom(65536)
            except BlockingIOError:
                break
            t0 = time.monotonic() if t0 is None else t0
            if s is front:
                if source not in upstream:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.bind(("127.0.0.1", 0))
                    up.setblocking(False)
                    upstream[source] = up
                    client_of[up.fileno()] = source
                record("c2s", source, data, kind_of(source, len(data)))
                upstream[source].sendto(data, server)
            else:
                peer = client_of[s.fileno()]
                if len(data) == RETRY_SIZE:
                    state["retried"].add(peer)
                record("s2c", peer, data, "reply")
                front.sendto(data, peer)
    if own_replay_at > 0 and own["at"] is None and t0 is not None and time.monotonic() - t0 >= own_replay_at:
        replay_own()
    if client.poll() is not None and not ready:
        break
last_line = (client.stdout.read().strip().splitlines() or [""])[-1]
json.dump({"finished": time.time(), "own_port_replay": own, "clients": len(upstream), "datagrams": records}, open(out, "w"))
c2s = [r for r in records if r["dir"] == "c2s"]
print(json.dumps({"clients": len(upstream), "c2s_datagrams": len(c2s), "c2s_bytes": sum(r["len"] for r in c2s),
                  "s2c_datagrams": len(records) - len(c2s), "kinds": sorted({r["kind"] for r in c2s}),
                  "own_port_replay": own, "client": json.loads(last_line) if last_line.startswith("{") else last_line}))
sys.exit(client.returncode)
