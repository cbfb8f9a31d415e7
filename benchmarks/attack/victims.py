"""Sockets that send what an attacker sends and never answer, counting every byte that comes back (issue #18).

Shared by spoof.py (amplification) and replay.py (replays from new source ports); stdlib only.
"""
import json, select, socket, time

# IPv4 + UDP headers, for the "on the wire" ratio.
IP_UDP = 28


class Victim:
    """One UDP socket on BIND_IP with a fresh port; sends datagrams to the server and counts its replies."""

    def __init__(self, bind_ip, target, label=""):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((bind_ip, 0))
        self.sock.setblocking(False)
        self.target = target
        self.label = label
        self.bytes_sent = self.datagrams_sent = self.bytes_received = self.datagrams_received = 0
        self.last_reply = None

    def send(self, datagram):
        self.sock.sendto(datagram, self.target)
        self.bytes_sent += len(datagram)
        self.datagrams_sent += 1

    def drain(self, since):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            self.bytes_received += len(data)
            self.datagrams_received += 1
            self.last_reply = time.monotonic() - since


def listen(victims, seconds, since=None):
    """Counts what every victim receives for SECONDS (answering nothing)."""
    since = time.monotonic() if since is None else since
    by_fd = {v.sock.fileno(): v for v in victims}
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        # select() is limited to descriptors below 1024: poll() has no such limit (500+ sockets).
        poller = select.poll()
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(min(left, 0.5) * 1000):
            by_fd[fd].drain(since)


def totals(victims):
    """Sums over VICTIMS: bytes and datagrams both ways, ratios (UDP payload and with IP/UDP headers)."""
    sent = sum(v.bytes_sent for v in victims)
    dsent = sum(v.datagrams_sent for v in victims)
    received = sum(v.bytes_received for v in victims)
    dreceived = sum(v.datagrams_received for v in victims)
    lasts = [v.last_reply for v in victims if v.last_reply is not None]
    return {"bytes_sent": sent, "datagrams_sent": dsent, "bytes_received": received, "datagrams_received": dreceived,
            "sockets_answered": sum(1 for v in victims if v.datagrams_received),
            "last_reply_s": round(max(lasts), 2) if lasts else None,
            "ratio": round(received / sent, 3) if sent else None,
            "ratio_with_ip_udp_headers": round((received + IP_UDP * dreceived) / (sent + IP_UDP * dsent), 3) if sent else None}


def load_capture(path):
    """The client-to-server datagrams capture.py recorded, in order: [(kind, bytes)]."""
    capture = json.load(open(path))
    return [(d["kind"], bytes.fromhex(d["hex"])) for d in capture["datagrams"] if d["dir"] == "c2s"]
