#!/usr/bin/env bash
# One-session bulk throughput on loopback, native UDP I/O (epoll + recvmmsg/sendmmsg) against the
# portable Socket path (KCPKESTREL_UDP_IO=socket on both ends), same flags, same sitting. Not for CI.
#
#   benchmarks/compare/udp-io.sh            # BULK=64M REPS=1 by default
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
BULK=${BULK:-64M}
REPS=${REPS:-1}
FLAGS=(--mode fast3 --crypt aes --key bench --datashard 0 --parityshard 0)
bench_workdir kcpudpio

dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"

declare -A RESULT
for io in native socket; do
  mkfifo "$WORK/$io.in"
  KCPKESTREL_UDP_IO=$io $OURS serve --kcp 127.0.0.1:0 --app sink "${FLAGS[@]}" <"$WORK/$io.in" >"$WORK/$io.out" 2>"$WORK/$io.err" &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  exec 9>"$WORK/$io.in"
  for _ in $(seq 1 300); do [[ -s "$WORK/$io.out" ]] && break; sleep 0.1; done
  addr=$(head -n1 "$WORK/$io.out" | grep -o 'kcp=[^ ]*' | cut -d= -f2)
  [[ -n "$addr" ]] || { echo "serve did not start: $(cat "$WORK/$io.err")" >&2; exit 1; }
  best=0
  for _ in $(seq 1 "$REPS"); do
    line=$(KCPKESTREL_UDP_IO=$io $OURS bench --kcp "$addr" --workload bulk --bytes "$BULK" "${FLAGS[@]}" | tail -n1)
    echo "$io: $line" >&2
    value=$(jq -r .mb_per_s <<<"$line")
    best=$(awk -v a="$best" -v b="$value" 'BEGIN{print (b>a)?b:a}')
  done
  RESULT[$io]=$best
  exec 9>&-
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
done

ratio=$(awk -v s="${RESULT[socket]}" -v n="${RESULT[native]}" 'BEGIN{printf "%.2f", s/n}')
echo "bulk $BULK, one session, ${FLAGS[*]}: native ${RESULT[native]} MB/s, socket ${RESULT[socket]} MB/s, socket/native $ratio"
