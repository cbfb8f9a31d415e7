#!/usr/bin/env bash
# One-session bulk throughput on loopback and the server's CPU, per UDP I/O path: io_uring, epoll
# (recvmmsg/sendmmsg, "native") and the portable Socket path, both ends on the same path (--udp-io),
# same flags, interleaved rounds in one sitting, medians. Not for CI.
#
#   benchmarks/compare/udp-io.sh                     # BULK=64M ROUNDS=3 WARMUP=2 PATHS="iouring native socket"
#   PATHS="iouring native" ROUNDS=5 benchmarks/compare/udp-io.sh
#   KCP_FLAGS="--mode fast3 --crypt none --datashard 0 --parityshard 0" benchmarks/compare/udp-io.sh
#
# Per path: MB/s, and server CPU (user+system) per MB received, in milliseconds. The last line compares
# io_uring with epoll: throughput ratio and CPU-per-MB ratio (the goal of #19: >= 1.0x at <= 0.85x).
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
BULK=${BULK:-64M}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
read -r -a IO_PATHS <<<"${PATHS:-iouring native socket}"
read -r -a FLAGS <<<"${KCP_FLAGS:---mode fast3 --crypt aes --key bench --datashard 0 --parityshard 0}"
bench_workdir kcpudpio

dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"
TICK=$(getconf CLK_TCK)
bench_lock

declare -A PID ADDR MBS CPU
for io in "${IO_PATHS[@]}"; do
  mkfifo "$WORK/$io.in"
  $OURS serve --kcp 127.0.0.1:0 --app sink --udp-io "$io" "${FLAGS[@]}" <"$WORK/$io.in" >"$WORK/$io.out" 2>"$WORK/$io.err" &
  PID[$io]=$!
  track_pid "${PID[$io]}"
  eval "exec {fd}>\"$WORK/$io.in\""
  track_fd "$fd"
  for _ in $(seq 1 300); do [[ -s "$WORK/$io.out" ]] && break; sleep 0.1; done
  ADDR[$io]=$(head -n1 "$WORK/$io.out" | grep -o 'kcp=[^ ]*' | cut -d= -f2)
  [[ -n "${ADDR[$io]}" ]] || { echo "serve --udp-io $io did not start: $(cat "$WORK/$io.err")" >&2; exit 1; }
  grep -i "udp i/o" "$WORK/$io.err" >&2 || true
done

# Warm-up rounds (JIT, socket buffers) are run and not counted.
for round in $(seq $((1 - WARMUP)) "$ROUNDS"); do
  for io in "${IO_PATHS[@]}"; do
    before=$(cpu_ticks "${PID[$io]}")
    line=$($OURS bench --kcp "${ADDR[$io]}" --udp-io "$io" --workload bulk --bytes "$BULK" "${FLAGS[@]}" | tail -n1)
    after=$(cpu_ticks "${PID[$io]}")
    mbs=$(jq -r .mb_per_s <<<"$line")
    bytes=$(jq -r .bytes <<<"$line")
    cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v b="$bytes" 'BEGIN{printf "%.3f", (t / hz * 1000) / (b / 1048576)}')
    log "round $round $io: $mbs MB/s, server CPU $cpu ms/MB"
    ((round >= 1)) || continue
    MBS[$io]+="$mbs "
    CPU[$io]+="$cpu "
  done
done

summary="bulk $BULK, one session, $ROUNDS rounds, ${FLAGS[*]}:"
for io in "${IO_PATHS[@]}"; do
  # shellcheck disable=SC2086
  MBS[$io]=$(median ${MBS[$io]})
  # shellcheck disable=SC2086
  CPU[$io]=$(median ${CPU[$io]})
  summary+=" $io ${MBS[$io]} MB/s ${CPU[$io]} ms-cpu/MB;"
done
echo "$summary"
if [[ -n "${MBS[iouring]:-}" && -n "${MBS[native]:-}" ]]; then
  awk -v a="${MBS[iouring]}" -v b="${MBS[native]}" -v c="${CPU[iouring]}" -v d="${CPU[native]}" \
    'BEGIN{printf "iouring/epoll: throughput %.2fx, server CPU per MB %.2fx (goal >= 1.00x at <= 0.85x)\n", a/b, c/d}'
fi
