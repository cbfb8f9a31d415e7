#!/usr/bin/env bash
# Interleaved plaintext rounds: Kestrel's sockets (default), the tuned listener on epoll (tuned), on io_uring
# (iouring) and io_uring with the app run inline on the worker (iouring-inline); keep-alive then churn
# (Connection: close), 256 connections; server on core 0, wrk on core 1. Prints one line per run.
# Usage: ROUNDS=3 DURATION=5s benchmarks/compare/tcp/iouring-rounds.sh   (not part of CI)
set -uo pipefail
cd "$(dirname "$0")/../../.."
. benchmarks/lib.sh
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-5s}; PORT=${PORT:-18090}
out_dir=$(bench_build_dir plaintext-iouring)
dotnet build benchmarks/compare/tcp/PlaintextServer -c Release -o "$out_dir" >/dev/null || exit 1
bench_lock
server=$out_dir/PlaintextServer
url="http://127.0.0.1:$PORT/plaintext"
for scen in keep close; do
 for r in $(seq $ROUNDS); do
  for t in ${VARIANTS:-default tuned iouring iouring-inline}; do
   extra=(); [ $scen = close ] && extra=(-H 'Connection: close')
   if [ $t = iouring-inline ]; then export KCPKESTREL_TCP_URING_INLINE=1; tt=iouring; else unset KCPKESTREL_TCP_URING_INLINE; tt=$t; fi
   taskset -c 0 $server --transport $tt --port $PORT >/dev/null 2>&1 & pid=$!
   for _ in $(seq 100); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
   taskset -c 1 wrk -t1 -c256 -d2s "${extra[@]}" "$url" >/dev/null 2>&1
   out=$(taskset -c 1 wrk -t1 -c256 -d$DURATION "${extra[@]}" "$url" 2>&1)
   rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); errs=$(echo "$out" | grep -E "Socket errors|Non-2xx" | tr '\n' ' ')
   kill $pid; wait $pid 2>/dev/null
   echo "$scen round $r $t: $rps req/s $errs"
   sleep 1
  done
 done
done
