#!/usr/bin/env bash
# Keep-alive plaintext on Kestrel's sockets listener with and without the whole middleware set
# (logging, metrics, address filter, rate limiter with bandwidth, idle/lifetime timeouts), one sitting,
# variants interleaved per run. Server pinned to SERVER_CPUS, wrk to WRK_CPUS. Not part of CI.
# Usage: benchmarks/compare/middleware/run.sh [out.md]
set -euo pipefail
cd "$(dirname "$0")/../../.."
. benchmarks/lib.sh
SERVER_CPUS=${SERVER_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-256}
PORT=${PORT:-18090}
OUT=${1:-/dev/null}

dotnet build benchmarks/compare/middleware/MiddlewareServer -c Release -o /tmp/middleware-server >/dev/null
server=/tmp/middleware-server/MiddlewareServer
url="http://127.0.0.1:$PORT/plaintext"

CLK=$(getconf CLK_TCK)

run_one() { # on|off -> "requests/sec cpu-microseconds-per-request"
  local pid rps out t0 t1 reqs
  taskset -c "$SERVER_CPUS" "$server" --middleware "$1" --pieces "${PIECES:-logging,metrics,filter,limits,timeouts}" --port "$PORT" >/dev/null &
  pid=$!
  track_pid "$pid"
  for _ in $(seq 100); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d2s "$url" >/dev/null 2>&1   # warm-up (JIT, pools)
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url" 2>&1)
  t1=$(cpu_ticks "$pid")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  sleep 2
  # Server CPU time per request: unlike req/s it barely moves when another process takes CPU from the
  # server, so it is the figure to read on a shared machine.
  echo "${rps:-0} $(awk -v t=$((t1 - t0)) -v c="$CLK" -v n="${reqs:-1}" 'BEGIN {printf "%.2f", t / c * 1e6 / n}')"
}

off=(); on=(); offcpu=(); oncpu=()
for run in $(seq "$RUNS"); do
  # Alternate which goes first so drift in the shared machine's load does not favour one.
  if (( run % 2 )); then order=(off on); else order=(on off); fi
  for v in "${order[@]}"; do
    read -r rps cpu < <(run_one "$v")
    echo "run $run middleware=$v: $rps req/s, $cpu us CPU/request (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    if [ "$v" = off ]; then off+=("$rps"); offcpu+=("$cpu"); else on+=("$rps"); oncpu+=("$cpu"); fi
  done
done
moff=$(median "${off[@]}"); mon=$(median "${on[@]}")
coff=$(median "${offcpu[@]}"); con=$(median "${oncpu[@]}")
{
  echo "| variant | runs (req/s) | median req/s | ratio vs without | runs (server CPU µs/request) | median µs/request | CPU ratio vs without |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  echo "| without middleware | ${off[*]} | $moff | 1.000 | ${offcpu[*]} | $coff | 1.000 |"
  echo "| whole middleware set | ${on[*]} | $mon | $(awk -v a="$mon" -v b="$moff" 'BEGIN {printf "%.3f", a/b}') | ${oncpu[*]} | $con | $(awk -v a="$con" -v b="$coff" 'BEGIN {printf "%.3f", a/b}') |"
} | tee "$OUT"
