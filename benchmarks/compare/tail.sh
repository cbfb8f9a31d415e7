#!/usr/bin/env bash
# Tail latency of a sparse ping-pong under real packet loss: KcpKestrel against kcp-go 5.6.1 (tests/GoPeer) and
# against TCP (Kestrel's sockets transport serving the same echo app), in a namespace pair whose veth link loses
# LOSS% of packets each way in the kernel (netns.sh). 64-byte pings, FEC 10/3 + aes, medians of REPS fresh
# client processes; p50/p99/p99.9 per run. Writes benchmarks/results/tail.md. Needs root, nftables, go, jq.
#
#   benchmarks/compare/tail.sh
#   LOSSES="5" MODES="fast3" REPS=1 benchmarks/compare/tail.sh       # one cell
#   EXTRA_NAME=tlp EXTRA_FLAGS="--tail-loss-probe true" benchmarks/compare/tail.sh   # adds an "ours+tlp" variant
#   BEFORE_DLL=/path/to/KcpKestrel.Cli.dll benchmarks/compare/tail.sh   # adds "ours-before": another build of ours
#
# Each (loss, mode) is one sitting under the machine-wide benchmark lock (ours, its variants and kcp-go measured back
# to back there), and TCP one more per loss, so the lock is never held long and the ratios against kcp-go compare runs
# of the same sitting.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/netns.sh"
REPS=${REPS:-3}
PINGS=${PINGS:-2000}
WARM_PINGS=${WARM_PINGS:-300}
LOSSES=${LOSSES:-0 1 5 10}
MODES=${MODES:-fast3 fast}
EXTRA_NAME=${EXTRA_NAME:-}
EXTRA_FLAGS=${EXTRA_FLAGS:-}
BEFORE_DLL=${BEFORE_DLL:-}
TCP=${TCP:-1}   # 0: skip the TCP rows (when a sitting only repeats a mode)
TCP_REPS=${TCP_REPS:-1}
BEFORE_DESC=${BEFORE_DESC:-$BEFORE_DLL}
OUT=${OUT:-$ROOT/benchmarks/results/tail.md}
bench_workdir kcptail

command -v jq >/dev/null || { echo "jq is not on PATH" >&2; exit 1; }
log "building kcpkestrel (Release) and the kcp-go peer"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
build_go_peer "$WORK/kcppeer"
OURS=(dotnet "$ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll")
PEER=$WORK/kcppeer

# kcptun's presets as the Go peer's quartet (nodelay interval resend nc).
go_mode() { case $1 in fast3) echo "-nodelay 1 -interval 10 -resend 2 -nc 1" ;; fast2) echo "-nodelay 1 -interval 20 -resend 2 -nc 1" ;;
  fast) echo "-nodelay 0 -interval 30 -resend 2 -nc 1" ;; normal) echo "-nodelay 0 -interval 40 -resend 2 -nc 1" ;; esac; }
SECURE_OURS=(--crypt aes --key bench --datashard 10 --parityshard 3)
SECURE_GO=(-crypt aes -key bench -datashard 10 -parityshard 3)

FD=20
# start_server NAME CMD...: CMD in the background (in the server namespace) with a stdin we hold open; waits for
# its first line; sets STARTED_PID, STARTED_FD and STARTED_LINE.
start_server() {
  local name=$1; shift
  local fifo="$WORK/$name.in" out="$WORK/$name.out"
  mkfifo "$fifo"
  # `ip netns exec` execs CMD, so $! is the server itself (a shell function here would leave it running when killed),
  # and the server must not inherit the benchmark lock's descriptor, or it would hold the lock after we let go.
  ip netns exec "$NETNS_SERVER" "$@" <"$fifo" >"$out" 2>"$WORK/$name.err" {LOCK_FD}>&- &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
  FD=$((FD + 1))
  eval "exec ${FD}>\"$fifo\""
  track_fd "$FD"
  STARTED_FD=$FD
  for _ in $(seq 1 300); do
    [[ -s "$out" ]] && break
    sleep 0.1
  done
  STARTED_LINE=$(head -n1 "$out")
  [[ -n "$STARTED_LINE" ]] || { echo "$name did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
}

stop_server() { # PID FD
  eval "exec $2>&-" || true
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Pinging clients (Go's flag package takes --count as -count, so both take a trailing --count N).
ours_client=("${OURS[@]}" bench --workload pingpong --size 64)
go_client=("$PEER" -mode client -workload pingpong -size 64)

# begin_sitting LOSS / end_sitting: holds the benchmark lock and a fresh namespace pair for one sitting.
begin_sitting() { bench_lock; LOCK_FD=${BENCH_LOCK_FD:-9}; netns_up "$1"; }
end_sitting() {
  log "loss $1%: dropped by the link (client server): $(netns_drops)"
  netns_down
  if [[ -n "${BENCH_LOCK_FD:-}" ]]; then flock -u "$BENCH_LOCK_FD" 2>/dev/null || true; fi
}

tcp_sitting() { # LOSS: TCP_REPS clients (TCP's tail is its 200 ms minimum rto and backoff, steady from run to run)
  local loss=$1 addr
  begin_sitting "$loss"
  log "loss $loss%: TCP"
  start_server "tcp-$loss" "${OURS[@]}" serve --kcp "$NETNS_SERVER_ADDR:0" --tcp "$NETNS_SERVER_ADDR:0" --app echo
  addr=$(grep -o 'tcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
  REPS=$TCP_REPS measure_in "$loss TCP -" "${ours_client[@]}" --tcp "$addr"
  stop_server "$STARTED_PID" "$STARTED_FD"
  end_sitting "$loss"
}

kcp_sitting() { # LOSS MODE: ours (and its variants) and kcp-go back to back
  local loss=$1 mode=$2 addr
  begin_sitting "$loss"
  log "loss $loss%: $mode, ours"
  start_server "ours-$loss-$mode" "${OURS[@]}" serve --kcp "$NETNS_SERVER_ADDR:0" --app echo --mode "$mode" "${SECURE_OURS[@]}"
  addr=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
  measure_in "$loss ours $mode" "${ours_client[@]}" --kcp "$addr" --mode "$mode" "${SECURE_OURS[@]}"
  stop_server "$STARTED_PID" "$STARTED_FD"
  if [[ -n "$EXTRA_NAME" ]]; then
    log "loss $loss%: $mode, ours+$EXTRA_NAME"
    # shellcheck disable=SC2086
    start_server "extra-$loss-$mode" "${OURS[@]}" serve --kcp "$NETNS_SERVER_ADDR:0" --app echo --mode "$mode" "${SECURE_OURS[@]}" $EXTRA_FLAGS
    addr=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
    # shellcheck disable=SC2086
    measure_in "$loss ours+$EXTRA_NAME $mode" "${ours_client[@]}" --kcp "$addr" --mode "$mode" "${SECURE_OURS[@]}" $EXTRA_FLAGS
    stop_server "$STARTED_PID" "$STARTED_FD"
  fi
  if [[ -n "$BEFORE_DLL" ]]; then
    log "loss $loss%: $mode, ours-before"
    start_server "before-$loss-$mode" dotnet "$BEFORE_DLL" serve --kcp "$NETNS_SERVER_ADDR:0" --app echo --mode "$mode" "${SECURE_OURS[@]}"
    addr=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
    measure_in "$loss ours-before $mode" dotnet "$BEFORE_DLL" bench --workload pingpong --size 64 --kcp "$addr" --mode "$mode" "${SECURE_OURS[@]}"
    stop_server "$STARTED_PID" "$STARTED_FD"
  fi
  log "loss $loss%: $mode, kcp-go"
  # shellcheck disable=SC2046
  start_server "go-$loss-$mode" "$PEER" -mode server -listen "$NETNS_SERVER_ADDR:0" -app echo $(go_mode "$mode") "${SECURE_GO[@]}"
  addr=${STARTED_LINE#listening }
  # shellcheck disable=SC2046
  measure_in "$loss kcp-go $mode" "${go_client[@]}" -target "$addr" $(go_mode "$mode") "${SECURE_GO[@]}"
  if [[ -n "$EXTRA_NAME" ]]; then
    # Only our client protected, toward kcp-go's server: what one end of ours buys against kcp-go.
    log "loss $loss%: $mode, ours+$EXTRA_NAME client, kcp-go server"
    # shellcheck disable=SC2086
    measure_in "$loss ours+$EXTRA_NAME>kcp-go $mode" "${ours_client[@]}" --kcp "$addr" --mode "$mode" "${SECURE_OURS[@]}" $EXTRA_FLAGS
  fi
  stop_server "$STARTED_PID" "$STARTED_FD"
  end_sitting "$loss"
}

# measure_in LABEL CMD...: in the client namespace, one discarded warm-up client (WARM_PINGS), then REPS fresh
# clients of PINGS pings; appends "LABEL p50 p99 p999 retransmits" (medians, ms) to $WORK/rows, each JSON line to
# $WORK/raw.
measure_in() {
  local label=$1; shift
  local p50=() p99=() p999=() rtx=() line
  netns_client "$@" --count "$WARM_PINGS" >/dev/null 2>&1 {LOCK_FD}>&- || true
  for _ in $(seq 1 "$REPS"); do
    line=$(netns_client "$@" --count "$PINGS" 2>>"$WORK/clients.err" {LOCK_FD}>&- | tail -n1 || true)
    echo "$label $line" >>"$WORK/raw"
    if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" != "true" ]]; then
      echo "FAILED: $label -> $line" >&2
      continue
    fi
    p50+=("$(jq -r '.rtt_p50_us / 1000' <<<"$line")")
    p99+=("$(jq -r '.rtt_p99_us / 1000' <<<"$line")")
    p999+=("$(jq -r '(.rtt_p999_us // 0) / 1000' <<<"$line")")
    rtx+=("$(jq -r '.retransmits // "-"' <<<"$line")")
  done
  if ((${#p50[@]} == 0)); then echo "$label fail fail fail -" >>"$WORK/rows"; return; fi
  local r="-"
  [[ "${rtx[0]}" != "-" ]] && r=$(median "${rtx[@]}")
  printf '%s %.2f %.2f %.2f %s\n' "$label" "$(median "${p50[@]}")" "$(median "${p99[@]}")" "$(median "${p999[@]}")" "$r" >>"$WORK/rows"
}

: >"$WORK/rows"
: >"$WORK/raw"
for loss in $LOSSES; do
  ((TCP)) && tcp_sitting "$loss"
  for mode in $MODES; do kcp_sitting "$loss" "$mode"; done
done

# ---- report ----------------------------------------------------------------------------------------------------
{
  echo "# Tail latency of a sparse ping-pong under kernel packet loss"
  echo
  echo "Generated by \`benchmarks/compare/tail.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, shared). Two network namespaces"
  echo "joined by veth, LOSS% random drop on each side's input hook (nftables), no added delay. 64-byte ping-pong,"
  echo "$PINGS pings per client, medians of $REPS fresh client processes ($TCP_REPS for TCP) after one discarded warm-up client; FEC 10/3 + aes"
  echo "for both KCPs. TCP is Kestrel's sockets transport serving the same echo app (\`serve --tcp\`, \`bench --tcp\`)."
  [[ -n "$EXTRA_NAME" ]] && echo "ours+$EXTRA_NAME: both ends with \`$EXTRA_FLAGS\`."
  [[ -n "$BEFORE_DLL" ]] && echo "ours-before: the same, built from the commit before this slice's engine changes ($BEFORE_DESC)."
  echo
  echo "| loss | mode | transport | p50 ms | p99 ms | p99.9 ms | retransmits | p99 vs kcp-go | p99 vs TCP |"
  echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  while read -r loss who mode p50 p99 p999 rtx; do
    go99=$(awk -v l="$loss" -v m="$mode" '$1 == l && $2 == "kcp-go" && $3 == m {print $5}' "$WORK/rows")
    tcp99=$(awk -v l="$loss" '$1 == l && $2 == "TCP" {print $5}' "$WORK/rows")
    vs_go="-"; vs_tcp="-"
    if [[ $who == ours* ]]; then
      vs_go=$(awk -v a="$p99" -v b="$go99" 'BEGIN { if (b + 0 > 0 && a != "fail") printf "%.2f", a / b; else print "-" }')
      vs_tcp=$(awk -v a="$p99" -v b="$tcp99" 'BEGIN { if (b + 0 > 0 && a != "fail") printf "%.2f", a / b; else print "-" }')
    fi
    echo "| $loss% | $mode | $who | $p50 | $p99 | $p999 | $rtx | $vs_go | $vs_tcp |"
  done <"$WORK/rows"
  echo
  echo "Goal (issue 17): at 5% loss, our p99 <= 0.7x kcp-go's and <= 0.15x TCP's."
  echo
  echo "<details><summary>Raw JSON lines (label, then the client's line)</summary>"
  echo
  echo '```'
  cat "$WORK/raw"
  echo '```'
  echo
  echo "</details>"
} >"$OUT"
log "wrote $OUT"
cat "$WORK/rows"
