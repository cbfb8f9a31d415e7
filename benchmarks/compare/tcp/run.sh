#!/usr/bin/env bash
# Plaintext app on the tuned TCP listener vs Kestrel's default sockets transport, one machine, one sitting.
# Server pinned to SERVER_CPUS, wrk to WRK_CPUS. Churn (Connection: close) and keep-alive, RUNS runs each,
# medians and ratio ours/default. Not part of CI. Usage: benchmarks/compare/tcp/run.sh [out.md]
set -euo pipefail
cd "$(dirname "$0")/../../.."
. benchmarks/lib.sh
SERVER_CPUS=${SERVER_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-256}
PORT=${PORT:-18080}
OUT=${1:-/dev/null}

dotnet build benchmarks/compare/tcp/PlaintextServer -c Release -o /tmp/plaintext-server >/dev/null
server=/tmp/plaintext-server/PlaintextServer
url="http://127.0.0.1:$PORT/plaintext"

# name|server arguments
variants=("default|--transport default" "tuned|--transport tuned" "tuned+defer|--transport tuned --defer-accept 1")
scenarios=("churn|close" "keepalive|keep")

declare -A results
run_one() { # variant-args close|keep -> requests/sec
  local args=$1 pid rps extra=()
  [ "$2" = close ] && extra=(-H 'Connection: close')
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPUS" "$server" $args --port "$PORT" >/dev/null &
  pid=$!
  track_pid "$pid"
  for _ in $(seq 100); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  # shellcheck disable=SC2086
  taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d2s "${extra[@]}" "$url" >/dev/null 2>&1   # warm-up (JIT, pools)
  # shellcheck disable=SC2086
  rps=$(taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "${extra[@]}" "$url" 2>&1 | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  sleep 2   # let TIME_WAIT and the CPU settle
  echo "${rps:-0}"
}

for scenario in "${scenarios[@]}"; do
  sname=${scenario%%|*}; sargs=${scenario#*|}
  for run in $(seq "$RUNS"); do
    # Variants interleave within each run so drift in the shared machine's load hits them all alike.
    for variant in "${variants[@]}"; do
      vname=${variant%%|*}; vargs=${variant#*|}
      rps=$(run_one "$vargs" "$sargs")
      results["$sname|$vname"]="${results["$sname|$vname"]:-} $rps"
      echo "$sname run $run $vname: $rps req/s" >&2
    done
  done
done

{
  echo "| scenario | variant | runs (req/s) | median req/s | ratio vs default |"
  echo "| --- | --- | --- | --- | --- |"
  for scenario in "${scenarios[@]}"; do
    sname=${scenario%%|*}
    # shellcheck disable=SC2086
    base=$(median ${results["$sname|default"]})
    for variant in "${variants[@]}"; do
      vname=${variant%%|*}
      # shellcheck disable=SC2086
      med=$(median ${results["$sname|$vname"]})
      ratio=$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
      echo "| $sname | $vname |${results["$sname|$vname"]} | $med | $ratio |"
    done
  done
} | tee "$OUT"
