#!/usr/bin/env python3
"""Opens COUNT idle TCP connections to HOST:PORT, spread over the given source addresses (one address offers about
60,000 ports to one destination), prints "established N failed M" once every connect has finished, then holds them
open until stdin closes. Used by run.sh to read a server's memory per idle connection; standard library only."""
import selectors
import socket
import sys

def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sources = sys.argv[4:] or [None]
    selector = selectors.DefaultSelector()
    held, failed, pending = [], 0, 0
    batch = 512  # connects in flight at once: stays under the listeners' SYN backlog
    opened = 0
    while opened < count or pending:
        while opened < count and pending < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            source = sources[opened % len(sources)]
            if source:
                s.bind((source, 0))
            s.setblocking(False)
            s.connect_ex((host, port))
            selector.register(s, selectors.EVENT_WRITE)
            opened += 1
            pending += 1
        for key, _ in selector.select(timeout=10):
            s = key.fileobj
            selector.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                held.append(s)
            else:
                failed += 1
                s.close()
    print(f"established {len(held)} failed {failed}", flush=True)
    sys.stdin.read()
    for s in held:
        s.close()

if __name__ == "__main__":
    main()
