#!/usr/bin/env bash
# Latency of requests larger than one segment (issue #17; kcp-go's issue 204: a 5 KB message over a path with more
# than 50 ms of delay): echo round trips of 4 B, 1 KB, 5 KB and 64 KB through the independent Go relay at 50 ms each
# way and 0, 5 and 10% loss each way, ours against kcp-go, FEC 10/3 + aes, warm servers, a fresh client per run.
# Writes benchmarks/results/sizes.md. run.sh runs it in its sitting; alone it takes the benchmark lock itself.
#
#   benchmarks/compare/sizes.sh            # SIZE_PINGS=100 per size and loss, about 6 minutes
#   QUICK=1 benchmarks/compare/sizes.sh    # SIZE_PINGS=10
#
# Knobs: SIZE_PINGS, SIZE_REPS (1), SIZE_DELAY (50 ms each way), SIZE_LOSSES ("0 0.05 0.1"), SIZES ("4 1024 5120 65536"),
# SIZE_RELAY (go | ours), SIZES_OUT.
# The smallest size is 4 B, not 1: both clients number their messages in the first 4 bytes. At this delay the CPU
# is idle between round trips, so ours and kcp-go run at the same time, each through a relay of its own.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
[[ ${QUICK:-0} == 1 ]] && : "${SIZE_PINGS:=10}"
SIZE_PINGS=${SIZE_PINGS:-100}
REPS=${SIZE_REPS:-1}
SIZE_DELAY=${SIZE_DELAY:-50}
SIZE_LOSSES=${SIZE_LOSSES:-0 0.05 0.1}
SIZES=${SIZES:-4 1024 5120 65536}
SIZE_RELAY=${SIZE_RELAY:-go}
SIZES_OUT=${SIZES_OUT:-$ROOT/benchmarks/results/sizes.md}
bench_workdir kcpsizes
. "$HERE/peers.sh"

peers_build
bench_lock
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0

start_ours echo "${SECURE_OURS[@]}"
start_go echo "${SECURE_GO[@]}"
log "warming both servers (direct, 64 KB ping-pong)"
ours_client --kcp "$OURS_ADDR" --workload pingpong --count 200 --size 65536 "${SECURE_OURS[@]}" >/dev/null 2>&1 || true
go_client -target "$GO_ADDR" -workload pingpong -count 200 -size 65536 "${SECURE_GO[@]}" >/dev/null 2>&1 || true

TABLES=()
for loss in $SIZE_LOSSES; do
  pct=$(awk -v l="$loss" 'BEGIN{printf "%g", l*100}')
  start_relay "$SIZE_RELAY" "$OURS_ADDR" "$loss" "$SIZE_DELAY"; ours_relay=$RELAY_ADDR; ours_relay_pid=$RELAY_PID; ours_relay_fd=$RELAY_FD
  start_relay "$SIZE_RELAY" "$GO_ADDR" "$loss" "$SIZE_DELAY"; go_relay=$RELAY_ADDR
  TABLES+=("" "### $pct% loss each way, ${SIZE_DELAY} ms each way" ""
    "| size | ours p50 (ms) | kcp-go p50 | ours / kcp-go | ours p99 (ms) | kcp-go p99 | ours / kcp-go | retransmits: ours / kcp-go |"
    "|---:|---:|---:|---:|---:|---:|---:|---|")
  for size in $SIZES; do
    log "echo $size B x$SIZE_PINGS at $pct% loss"
    fo="$WORK/size-$loss-$size-ours"; fg="$WORK/size-$loss-$size-go"
    run_reps "$fo" ours_client --kcp "$ours_relay" --workload pingpong --count "$SIZE_PINGS" --size "$size" --timeout 600 "${SECURE_OURS[@]}" &
    a=$!
    run_reps "$fg" go_client -target "$go_relay" -workload pingpong -count "$SIZE_PINGS" -size "$size" -timeout 600s "${SECURE_GO[@]}" &
    b=$!
    wait "$a" "$b" || true
    o50=$(med "$fo" ".rtt_p50_us / 1000" 2); g50=$(med "$fg" ".rtt_p50_us / 1000" 2)
    o99=$(med "$fo" ".rtt_p99_us / 1000" 2); g99=$(med "$fg" ".rtt_p99_us / 1000" 2)
    TABLES+=("| $size B | $o50 | $g50 | $(ratio "$o50" "$g50") | $o99 | $g99 | $(ratio "$o99" "$g99") | $(med "$fo" .retransmits 0) / $(med "$fg" .retransmits 0) |")
  done
  stop_relay; stop_started "$ours_relay_pid" "$ours_relay_fd"
done
stop_ours; stop_go

relay_name=$([[ $SIZE_RELAY == go ]] && echo "the independent Go relay (benchmarks/compare/relay/relay.go)" || echo "kcpkestrel relay")
{
  echo "# Requests larger than one segment: echo latency by size, through a relay with ${SIZE_DELAY} ms each way"
  echo
  echo "Produced by \`benchmarks/compare/sizes.sh\` on $STARTED_AT (${SECONDS}s): $SIZE_PINGS round trips per size, loss and stack, $REPS run(s) each (medians of the runs' percentiles)."
  echo
  echo "- Through $relay_name, loss and ${SIZE_DELAY} ms delay each way (so an RTT of at least $((2 * SIZE_DELAY)) ms), seeded. Each stack has a relay of its own; ours and kcp-go run at the same time (the CPU is idle between round trips at this delay)."
  echo "- Both stacks: FEC 10/3 + aes, fast3 (nodelay 1, interval 10, resend 2, nc 1), windows 1024, mtu 1350 (mss 1298: 5 KB is 4 segments, 64 KB is 51). Ours: \`kcpkestrel serve --app echo\` + \`kcpkestrel bench --workload pingpong --size N\`; kcp-go: \`tests/GoPeer\` \`-app echo\` + \`-workload pingpong -size N\`. Warm servers, a fresh client per run."
  echo "- The smallest size is 4 B rather than 1 B: both clients number each message in its first 4 bytes."
  echo "- p99 of N samples is the one at index N x 99 / 100 of the sorted round trips (with 100, the largest but one). Retransmits are the client's."
  printf '%s\n' "${TABLES[@]}"
  echo
  echo "Run again: \`SIZE_PINGS=$SIZE_PINGS SIZE_REPS=$REPS SIZE_DELAY=$SIZE_DELAY SIZE_LOSSES=\"$SIZE_LOSSES\" SIZES=\"$SIZES\" SIZE_RELAY=$SIZE_RELAY benchmarks/compare/sizes.sh\`"
} >"$SIZES_OUT"
log "wrote $SIZES_OUT (${SECONDS}s)"
