#!/usr/bin/env bash
# Side-by-side: KcpKestrel (kcpkestrel serve/bench) against kcp-go 5.6.1 (tests/GoPeer), same flags, same machine,
# same sitting: issue #17's benchmark list with a goal column. Rewrites the generated section of BENCHMARKS.md (between
# its run.sh markers; the other sections stay), then runs sizes.sh and lossy-links.sh (their own results files).
# Not for CI. Holds /tmp/kcpkestrel-bench.lock for the whole sitting.
#
#   benchmarks/compare/run.sh              # the full sitting, as root: about 22 minutes on 2 cores (this file's cases
#                                          # ~10, sizes.sh ~4, lossy-links.sh ~8), plus building and waiting for the lock
#   QUICK=1 benchmarks/compare/run.sh      # every case once with small sizes, to check the harness (under 3 minutes)
#   PARTS="main" benchmarks/compare/run.sh # only this file's cases (PARTS: main sizes lossy)
#   CCS="Kcp" ...                          # our congestion controls to run the throughput rows with (default "Kcp Bbr")
#   INLINES="false" ...                    # --inline settings of our ping-pong rows (default "false true")
#
# Knobs (full / QUICK=1): REPS 3/1, ECHO 128M/16M, BULK 256M/32M, LOSSY_BULK 16M/4M, PINGS 2000/300, SESSIONS 5000/500,
# SESSION_RATE 2, SESSION_SECONDS 15/4, DEMO_REPS 3/1, RELAY_DELAY 5 (ms each way), RELAY_LOSSES "0.01 0.05",
# RELAYS "ours go", WARM 16M/4M, BLAST_SECONDS 3/1, OUT (BENCHMARKS.md), SIZES_OUT and LOSSY_OUT (benchmarks/results/).
# Needs: dotnet, go (Debian's kcp-go in /usr/share/gocode), jq, Linux /proc; lossy-links.sh also root and nftables.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
if [[ ${QUICK:-0} == 1 ]]; then
  : "${REPS:=1}" "${ECHO:=16M}" "${BULK:=32M}" "${LOSSY_BULK:=4M}" "${PINGS:=300}" "${SESSIONS:=500}" "${SESSION_SECONDS:=4}"
  : "${DEMO_REPS:=1}" "${WARM:=4M}" "${BLAST_SECONDS:=1}"
fi
REPS=${REPS:-3}
ECHO=${ECHO:-128M}
BULK=${BULK:-256M}
WARM=${WARM:-16M}
LOSSY_BULK=${LOSSY_BULK:-16M}
PINGS=${PINGS:-2000}
SESSIONS=${SESSIONS:-5000}
SESSION_RATE=${SESSION_RATE:-2}
SESSION_SECONDS=${SESSION_SECONDS:-15}
DEMO_REPS=${DEMO_REPS:-3}
BLAST_SECONDS=${BLAST_SECONDS:-3}
RELAY_DELAY=${RELAY_DELAY:-5}
RELAY_LOSSES=${RELAY_LOSSES:-0.01 0.05}
RELAYS=${RELAYS:-ours go}
CCS=${CCS:-Kcp Bbr}
INLINES=${INLINES:-false true}
PARTS=${PARTS:-main sizes lossy}
OUT=${OUT:-$ROOT/BENCHMARKS.md}
export SIZES_OUT=${SIZES_OUT:-$ROOT/benchmarks/results/sizes.md}
export LOSSY_OUT=${LOSSY_OUT:-$ROOT/benchmarks/results/lossy-links.md}
bench_workdir kcpcompare
. "$HERE/peers.sh"

peers_build
bench_lock
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0
# The children below run inside this sitting's lock.
export BENCH_NO_LOCK=1

ROWS=()
COMMANDS=()
# row CASE OURS KCPGO RATIO GOAL RETRANSMITS
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | ${6:-} |"); }
cmd() { COMMANDS+=("$*"); }

variant() { # plain|secure: sets O, G, MSS, LABEL
  if [[ $1 == plain ]]; then O=("${PLAIN_OURS[@]}"); G=("${PLAIN_GO[@]}"); MSS=$MSS_PLAIN; LABEL="no FEC, crypt none"
  else O=("${SECURE_OURS[@]}"); G=("${SECURE_GO[@]}"); MSS=$MSS_SECURE; LABEL="FEC 10/3 + aes"; fi
}

# ---- one session on a clean loopback: echo and one-way sink, each congestion control -----------------------------
# A warm server (one discarded transfer), a fresh client process per run.
throughput_case() { # WORKLOAD(echo|bulk) SIZE VARIANT GOAL_RATIO
  local workload=$1 size=$2 goal_ratio=$4 app f cc
  variant "$3"
  app=$([[ $workload == echo ]] && echo echo || echo sink)
  log "$workload $size, $LABEL"
  f="$WORK/$workload-$3-go"
  start_go "$app" "${G[@]}"
  warm_go "$GO_ADDR" "$workload" "${G[@]}"
  run_reps "$f" go_client -target "$GO_ADDR" -workload "$workload" -bytes "$(bytes_of "$size")" "${G[@]}"
  stop_go
  local theirs; theirs=$(med "$f" .mb_per_s)
  for cc in $CCS; do
    local fo="$WORK/$workload-$3-$cc"
    start_ours "$app" "${O[@]}" --cc "$cc"
    warm_ours "$OURS_ADDR" "$workload" "${O[@]}" --cc "$cc"
    run_reps "$fo" ours_client --kcp "$OURS_ADDR" --workload "$workload" --bytes "$size" --timeout 300 "${O[@]}" --cc "$cc"
    stop_ours
    local ours r; ours=$(med "$fo" .mb_per_s); r=$(ratio "$ours" "$theirs")
    row "$workload $size, $LABEL, --cc $cc (MB/s)" "$ours" "$theirs" "$r" "≥ ${goal_ratio}×: $(goal "$r" ">=" "$goal_ratio")" "$(retrans "$fo" "$MSS") / $(retrans "$f" "$MSS")"
  done
  cmd "kcpkestrel serve --kcp 127.0.0.1:0 --app $app ${O[*]} --cc CC  +  kcpkestrel bench --kcp ADDR --workload $workload --bytes $size ${O[*]} --cc CC"
  cmd "kcppeer -mode server -listen 127.0.0.1:0 -app $app ${G[*]}  +  kcppeer -mode client -target ADDR -workload $workload -bytes $(bytes_of "$size") ${G[*]}"
}

# ---- retransmissions on a clean loopback: read from the echo runs above ------------------------------------------
retransmission_rows() {
  local v f fo ours theirs
  for v in plain secure; do
    variant "$v"
    f="$WORK/echo-$v-go"; fo="$WORK/echo-$v-Kcp"
    [[ -e $fo ]] || continue
    ours=$(med "$fo" "100 * .retransmits / (.bytes / $MSS + .retransmits)" 2)
    theirs=$(med "$f" "100 * .retransmits / (.bytes / $MSS + .retransmits)" 2)
    row "retransmitted share of data segments, echo $ECHO, $LABEL, clean loopback (%)" "$ours" "$theirs" "$(ratio "$ours" "$theirs")" "≤ 0.5%: $(goal "$ours" "<=" 0.5)" "$(retrans "$fo" "$MSS") / $(retrans "$f" "$MSS")"
  done
}

# ---- through a lossy relay (ours and the independent Go one), FEC 10/3 + aes, one-way sink --------------------------
relay_case() { # RELAY(ours|go) LOSS
  local relay=$1 loss=$2 f fo cc pct name
  variant secure
  pct=$(awk -v l="$loss" 'BEGIN{printf "%g", l*100}')
  name=$([[ $relay == ours ]] && echo "kcpkestrel relay" || echo "independent Go relay")
  log "bulk $LOSSY_BULK through the $name at $pct% loss, ${RELAY_DELAY} ms each way"
  f="$WORK/relay-$relay-$loss-go"
  start_go sink "${G[@]}"; start_relay "$relay" "$GO_ADDR" "$loss" "$RELAY_DELAY"
  warm_go "$RELAY_ADDR" bulk "${G[@]}"
  run_reps "$f" go_client -target "$RELAY_ADDR" -workload bulk -bytes "$(bytes_of "$LOSSY_BULK")" "${G[@]}"
  stop_relay; stop_go
  local theirs; theirs=$(med "$f" .mb_per_s)
  for cc in $CCS; do
    fo="$WORK/relay-$relay-$loss-$cc"
    start_ours sink "${O[@]}" --cc "$cc"; start_relay "$relay" "$OURS_ADDR" "$loss" "$RELAY_DELAY"
    warm_ours "$RELAY_ADDR" bulk "${O[@]}" --cc "$cc"
    run_reps "$fo" ours_client --kcp "$RELAY_ADDR" --workload bulk --bytes "$LOSSY_BULK" --timeout 300 "${O[@]}" --cc "$cc"
    stop_relay; stop_ours
    local ours r; ours=$(med "$fo" .mb_per_s); r=$(ratio "$ours" "$theirs")
    row "bulk $LOSSY_BULK via $name, $pct% loss + $RELAY_DELAY ms each way, $LABEL, --cc $cc (MB/s)" "$ours" "$theirs" "$r" "≥ 2×: $(goal "$r" ">=" 2)" "$(retrans "$fo" "$MSS") / $(retrans "$f" "$MSS")"
  done
}

# ---- ping-pong RTT: warm server, fresh client --------------------------------------------------------------------
rtt_case() { # VARIANT
  local f fo inline
  variant "$1"
  log "ping-pong x$PINGS, 64 B, $LABEL"
  f="$WORK/ping-$1-go"
  start_go echo "${G[@]}"
  go_client -target "$GO_ADDR" -workload pingpong -count "$PINGS" -size 64 "${G[@]}" >/dev/null 2>&1 || true
  run_reps "$f" go_client -target "$GO_ADDR" -workload pingpong -count "$PINGS" -size 64 "${G[@]}"
  stop_go
  # Ours twice: as shipped, and with the app's continuations inline on the loop (--inline, both ends), which the
  # echo app allows because it never blocks.
  for inline in $INLINES; do
    fo="$WORK/ping-$1-ours-$inline"
    start_ours echo "${O[@]}" --inline "$inline"
    ours_client --kcp "$OURS_ADDR" --workload pingpong --count "$PINGS" --size 64 "${O[@]}" --inline "$inline" >/dev/null 2>&1 || true
    run_reps "$fo" ours_client --kcp "$OURS_ADDR" --workload pingpong --count "$PINGS" --size 64 "${O[@]}" --inline "$inline"
    stop_ours
    local p ours theirs r
    for p in 50 99; do
      ours=$(med "$fo" ".rtt_p${p}_us"); theirs=$(med "$f" ".rtt_p${p}_us"); r=$(ratio "$ours" "$theirs")
      row "ping-pong 64 B x$PINGS, $LABEL, --inline $inline: RTT p$p (µs)" "$ours" "$theirs" "$r" "≤ 0.7×: $(goal "$r" "<=" 0.7)" "$(med "$fo" .retransmits 0) / $(med "$f" .retransmits 0)"
    done
  done
  cmd "kcpkestrel bench --kcp ADDR --workload pingpong --count $PINGS --size 64 ${O[*]} --inline false|true  |  kcppeer -mode client -target ADDR -workload pingpong -count $PINGS -size 64 ${G[*]}  (warm echo servers; ours started with the same --inline)"
}

# ---- many sessions: server CPU ---------------------------------------------------------------------------------
TCK=$(getconf CLK_TCK)
# sessions_run PID ADDR: one run of our sessions client; prints "cpu_percent us_per_round_trip p50 p99 ok errors".
# The server runs on core 0 and the client on core 1, so neither's CPU figure includes the other's work.
sessions_run() {
  local pid=$1 addr=$2 t0 c0 line t1 c1 trips
  taskset -a -pc 0 "$pid" >/dev/null
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  line=$(taskset -c 1 $OURS bench --kcp "$addr" --workload sessions --sessions "$SESSIONS" --rate "$SESSION_RATE" --duration "$SESSION_SECONDS" --size 64 --timeout 600 --round-trip-timeout 600 "${SECURE_OURS[@]}" 2>>"$WORK/clients.err" | tail -n1 || true)
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  trips=$(jq -r '.bytes / 128' <<<"$line" 2>/dev/null || echo 0)
  awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$TCK" -v n="${trips:-0}" \
    'BEGIN { printf "%.1f %s ", (c1 - c0) / tck / (t1 - t0) * 100, (n > 0 ? sprintf("%.1f", (c1 - c0) / tck * 1e6 / n) : "nan") }'
  jq -r '"\(.rtt_p50_us) \(.rtt_p99_us) \(.ok) \(.errors)"' <<<"$line" 2>/dev/null || echo "nan nan false -1"
}
sessions_case() { # ours|go: sets SESS_CPU SESS_COST SESS_P50 SESS_P99 SESS_NOTES
  local cpus=() costs=() p50s=() p99s=() notes="" pid addr cpu cost p50 p99 ok errors
  for _ in $(seq 1 "$REPS"); do
    if [[ $1 == ours ]]; then start_ours echo "${SECURE_OURS[@]}"; pid=$OURS_PID; addr=$OURS_ADDR
    else start_go echo "${SECURE_GO[@]}"; pid=$GO_PID; addr=$GO_ADDR; fi
    read -r cpu cost p50 p99 ok errors < <(sessions_run "$pid" "$addr")
    [[ $ok == true ]] || notes="$notes errors=$errors"
    cpus+=("$cpu"); costs+=("$cost"); p50s+=("$p50"); p99s+=("$p99")
    if [[ $1 == ours ]]; then stop_ours; else stop_go; fi
  done
  SESS_CPU=$(median "${cpus[@]}"); SESS_COST=$(median "${costs[@]}")
  SESS_P50=$(median "${p50s[@]}"); SESS_P99=$(median "${p99s[@]}"); SESS_NOTES=$notes
}
sessions_rows() {
  log "$SESSIONS sessions x $SESSION_RATE msg/s x ${SESSION_SECONDS}s, FEC 10/3 + aes (our client against both servers)"
  sessions_case ours; local o_cpu=$SESS_CPU o_cost=$SESS_COST o_p50=$SESS_P50 o_p99=$SESS_P99 o_notes=$SESS_NOTES
  sessions_case go; local g_cpu=$SESS_CPU g_cost=$SESS_COST g_p50=$SESS_P50 g_p99=$SESS_P99 g_notes=$SESS_NOTES
  local r; r=$(ratio "$o_cpu" "$g_cpu")
  row "$SESSIONS sessions x $SESSION_RATE msg/s, FEC 10/3 + aes: server CPU (% of one core)${o_notes:+; ours:$o_notes}${g_notes:+; theirs:$g_notes}" "$o_cpu" "$g_cpu" "$r" "≤ 0.3×: $(goal "$r" "<=" 0.3)"
  row "$SESSIONS sessions x $SESSION_RATE msg/s: server CPU per round trip (µs)" "$o_cost" "$g_cost" "$(ratio "$o_cost" "$g_cost")" ""
  row "$SESSIONS sessions x $SESSION_RATE msg/s: RTT p50 / p99 (µs), our client for both" "$o_p50 / $o_p99" "$g_p50 / $g_p99" "$(ratio "$o_p50" "$g_p50") / $(ratio "$o_p99" "$g_p99")" ""
  cmd "kcpkestrel bench --kcp ADDR --workload sessions --sessions $SESSIONS --rate $SESSION_RATE --duration $SESSION_SECONDS --size 64 --round-trip-timeout 600 ${SECURE_OURS[*]}  (against kcpkestrel serve --app echo and kcppeer -app echo; server CPU = delta utime+stime of /proc/PID/stat over the run; server pinned to core 0, client to core 1)"
}

# ---- the demo: KCP direct echo against its TCP figure, a fresh process each time ------------------------------------
demo_row() {
  log "kcpkestrel demo x$DEMO_REPS"
  local kcps=() tcps=() out k t
  for _ in $(seq 1 "$DEMO_REPS"); do
    out=$($OURS demo 2>>"$WORK/clients.err" || true)
    # Plain-text table: "echo 4M  KCP direct  <MB/s> ...", "echo 4M  TCP direct  <MB/s> ...".
    k=$(awk '/^echo/ && /KCP direct/ { for (i = 1; i <= NF; i++) if ($i == "direct") { print $(i + 1); exit } }' <<<"$out")
    t=$(awk '/^echo/ && /TCP direct/ { for (i = 1; i <= NF; i++) if ($i == "direct") { print $(i + 1); exit } }' <<<"$out")
    [[ -n $k && -n $t ]] && { kcps+=("$k"); tcps+=("$t"); }
  done
  if ((${#kcps[@]} == 0)); then row "demo: KCP direct echo against its TCP figure" "fail" "" "-" "-"; return; fi
  local kcp tcp r; kcp=$(median "${kcps[@]}"); tcp=$(median "${tcps[@]}"); r=$(ratio "$kcp" "$tcp")
  row "demo (\`kcpkestrel demo\`, fresh process): KCP direct echo 4M (MB/s); in brackets its TCP figure" "$kcp (TCP $tcp)" "" "$r of TCP" "≥ 0.5× TCP: $(goal "$r" ">=" 0.5)"
  cmd "kcpkestrel demo  (its echo rows: KCP direct and TCP direct; median of $DEMO_REPS fresh processes)"
}

# ---- references: TCP and the raw UDP ceiling -----------------------------------------------------------------------
reference_rows() {
  log "references: TCP bulk and raw UDP ceiling"
  start_ours sink
  run_reps "$WORK/tcp" ours_client --tcp "$OURS_TCP" --workload bulk --bytes "$BULK"
  stop_ours
  run_reps "$WORK/blast" $OURS bench --workload udpblast --duration "$BLAST_SECONDS"
  row "reference: bulk $BULK over Kestrel TCP, loopback (MB/s)" "$(med "$WORK/tcp" .mb_per_s)" "" "" "" ""
  row "ceiling: raw UDP, 1400 B datagrams, sendmmsg/recvmmsg, loopback (MB/s received)" "$(med "$WORK/blast" .mb_per_s)" "" "" "" ""
  cmd "kcpkestrel bench --tcp ADDR --workload bulk --bytes $BULK   |   kcpkestrel bench --workload udpblast --duration $BLAST_SECONDS"
}

if [[ " $PARTS " == *" main "* ]]; then
  for v in plain secure; do throughput_case echo "$ECHO" "$v" 3; done
  for v in plain secure; do throughput_case bulk "$BULK" "$v" 4; done
  retransmission_rows
  for relay in $RELAYS; do for loss in $RELAY_LOSSES; do relay_case "$relay" "$loss"; done; done
  cmd "relays, in front of each server: kcpkestrel relay --listen 127.0.0.1:0 --target SERVER --loss LOSS --delay $RELAY_DELAY --seed 7  |  go run benchmarks/compare/relay/relay.go -listen 127.0.0.1:0 -target SERVER -loss LOSS -delay ${RELAY_DELAY}ms -seed 7"
  for v in plain secure; do rtt_case "$v"; done
  sessions_rows
  demo_row
  reference_rows
  MAIN_SECONDS=$SECONDS
  log "main cases: ${MAIN_SECONDS}s"
fi
if [[ " $PARTS " == *" sizes "* ]]; then
  "$HERE/sizes.sh" || log "sizes.sh failed"
fi
if [[ " $PARTS " == *" lossy "* ]]; then
  if [[ $(id -u) == 0 ]] && command -v nft >/dev/null; then
    "$HERE/lossy-links.sh" || log "lossy-links.sh failed"
  else
    log "skipping lossy-links.sh: it needs root and nftables (apt-get install nftables)"
  fi
fi
if [[ " $PARTS " == *" main "* ]]; then
  # Last, so the goal lines of this sitting's sizes.md and lossy-links.md are quoted.
  . "$HERE/run-report.sh"
  write_benchmarks_md
  log "wrote $OUT"
fi
log "sitting done in ${SECONDS}s"
