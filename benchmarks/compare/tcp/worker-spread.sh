#!/usr/bin/env bash
# How the io_uring engine's workers share a keep-alive load: server on SERVER_CPUS (two CPUs, so two workers),
# wrk (one thread, CONNECTIONS connections, DURATION) on WRK_CPUS, once per variant; prints req/s and the CPU
# ticks (utime+stime) each uring-tcp-N thread used. Shows where reuseport CBPF steering (--affinity 1) sends
# connections: on loopback the SYN is processed on the client's CPU. Not part of CI.
# Usage: benchmarks/compare/tcp/worker-spread.sh   (VARIANTS='--affinity 0;--affinity 1' by default)
set -euo pipefail
cd "$(dirname "$0")/../../.."
. benchmarks/lib.sh
SERVER_CPUS=${SERVER_CPUS:-0,1}; WRK_CPUS=${WRK_CPUS:-1}; DURATION=${DURATION:-3s}; CONNECTIONS=${CONNECTIONS:-256}
PORT=${PORT:-18392}; VARIANTS=${VARIANTS:---affinity 0;--affinity 1}
out_dir=$(bench_build_dir plaintext-server)
dotnet build benchmarks/compare/tcp/PlaintextServer -c Release -o "$out_dir" >/dev/null
bench_lock
url="http://127.0.0.1:$PORT/plaintext"
IFS=';' read -r -a variants <<<"$VARIANTS"
for variant in "${variants[@]}"; do
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPUS" "$out_dir/PlaintextServer" --transport iouring $variant --port "$PORT" >/dev/null 2>&1 &
  pid=$!
  track_pid "$pid"
  for _ in $(seq 100); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  rps=$(taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url" 2>&1 | awk '/Requests\/sec/ {print $2}')
  line="$variant: $rps req/s"
  for task in /proc/"$pid"/task/*; do
    name=$(cat "$task/comm")
    case $name in uring-tcp-*) line="$line, $name $(awk '{print $14 + $15}' "$task/stat") ticks" ;; esac
  done
  echo "$line"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  sleep 1
done
