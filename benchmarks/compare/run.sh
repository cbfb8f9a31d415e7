#!/usr/bin/env bash
# Side-by-side: KcpKestrel (kcpkestrel serve/bench) against kcp-go 5.6.1 (tests/GoPeer), same flags,
# same machine, same sitting. Writes BENCHMARKS.md at the repository root. Not for CI.
#
#   benchmarks/compare/run.sh                 # REPS=3 by default
#   REPS=1 SESSIONS=5000 benchmarks/compare/run.sh   (5000 works but saturates 2 shared cores: see BENCHMARKS.md)
#
# Needs: dotnet, go (Debian's kcp-go in /usr/share/gocode), jq, Linux /proc.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
REPS=${REPS:-3}
BULK=${BULK:-256M}
WARM=${WARM:-16M}
LOSSY_BULK=${LOSSY_BULK:-16M}
PINGS=${PINGS:-1000}
SESSIONS=${SESSIONS:-5000}
SESSION_RATE=${SESSION_RATE:-2}
SESSION_SECONDS=${SESSION_SECONDS:-15}
BLAST_SECONDS=${BLAST_SECONDS:-3}
OUT=${OUT:-$ROOT/BENCHMARKS.md}
bench_workdir kcpcompare

command -v jq >/dev/null || { echo "jq is not on PATH" >&2; exit 1; }

log "building kcpkestrel (Release) and the kcp-go peer"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
build_go_peer "$WORK/kcppeer"
OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"
PEER="$WORK/kcppeer"

# KCP settings of every case: the Go peer's (nodelay 1, interval 10, resend 2, nc 1, windows 1024, mtu 1350);
# kcpkestrel's --mode fast3 is exactly that quartet.
PLAIN_OURS=(--mode fast3 --crypt none --datashard 0 --parityshard 0)
PLAIN_GO=(-crypt none -datashard 0 -parityshard 0)
SECURE_OURS=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3)
SECURE_GO=(-crypt aes -key bench -datashard 10 -parityshard 3)

FD=20
# start_with_stdin NAME CMD...: runs CMD in the background with a stdin we hold open (the Go peer and the
# relay stop when it closes); waits for its first line; sets STARTED_PID and STARTED_LINE.
start_with_stdin() {
  local name=$1; shift
  local fifo="$WORK/$name.in" out="$WORK/$name.out"
  mkfifo "$fifo"
  "$@" <"$fifo" >"$out" 2>"$WORK/$name.err" &
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

stop_started() { # PID FD
  eval "exec $2>&-" || true
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

start_ours() { # APP FLAGS...
  local app=$1; shift
  start_with_stdin "ours-$app-$RANDOM" $OURS serve --kcp 127.0.0.1:0 --app "$app" "$@"
  OURS_PID=$STARTED_PID; OURS_FD=$STARTED_FD
  OURS_ADDR=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
}

start_go() { # APP FLAGS...
  local app=$1; shift
  start_with_stdin "go-$app-$RANDOM" "$PEER" -mode server -listen 127.0.0.1:0 -app "$app" "$@"
  GO_PID=$STARTED_PID; GO_FD=$STARTED_FD
  GO_ADDR=${STARTED_LINE#listening }
}

start_relay() { # TARGET LOSS
  start_with_stdin "relay-$RANDOM" $OURS relay --listen 127.0.0.1:0 --target "$1" --loss "$2" --delay 2 --jitter 1 --seed 7
  RELAY_PID=$STARTED_PID; RELAY_FD=$STARTED_FD
  RELAY_ADDR=$(awk '{print $2}' <<<"$STARTED_LINE")
}

# run_reps FIELD CMD...: runs CMD REPS times, prints the median of FIELD of its last JSON line ("fail" if any run failed).
run_reps() {
  local field=$1; shift
  local values=() failed=0
  for _ in $(seq 1 "$REPS"); do
    local line
    line=$("$@" 2>>"$WORK/clients.err" | tail -n1 || true)
    if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" != "true" ]]; then
      failed=1
      echo "FAILED: $* -> $line" >&2
      continue
    fi
    values+=("$(jq -r ".$field" <<<"$line")")
  done
  if ((${#values[@]} == 0)); then echo "fail"; return; fi
  local m; m=$(median "${values[@]}" | awk '{printf "%.1f", $1}')
  ((failed)) && echo "${m}*" || echo "$m"
}

ratio() { awk -v a="${1%\*}" -v b="${2%\*}" 'BEGIN { if (b+0 == 0 || a == "fail" || b == "fail") print "-"; else printf "%.2f", a / b }'; }

ROWS=()
COMMANDS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }
cmd() { COMMANDS+=("$*"); }

# warm_ours ADDR FLAGS / warm_go ADDR FLAGS: one discarded WARM-byte transfer to a fresh server (and relay), so
# the timed runs measure a warmed-up server: ours would otherwise time the JIT compiling its hot paths.
warm_ours() { local addr=$1; shift; $OURS bench --kcp "$addr" --workload bulk --bytes "$WARM" "$@" >/dev/null 2>&1 || true; }
warm_go() { local addr=$1; shift; "$PEER" -mode client -target "$addr" -workload bulk -bytes $(( ${WARM%M} << 20 )) "$@" >/dev/null 2>&1 || true; }

# ---- bulk, direct ----------------------------------------------------------------------------------
for variant in plain secure; do
  if [[ $variant == plain ]]; then O=("${PLAIN_OURS[@]}"); G=("${PLAIN_GO[@]}"); label="no FEC, crypt none"; else O=("${SECURE_OURS[@]}"); G=("${SECURE_GO[@]}"); label="FEC 10/3 + aes"; fi
  log "bulk $BULK, $label"
  start_ours sink "${O[@]}"
  warm_ours "$OURS_ADDR" "${O[@]}"
  ours=$(run_reps mb_per_s $OURS bench --kcp "$OURS_ADDR" --workload bulk --bytes "$BULK" "${O[@]}")
  stop_started "$OURS_PID" "$OURS_FD"
  start_go sink "${G[@]}"
  warm_go "$GO_ADDR" "${G[@]}"
  theirs=$(run_reps mb_per_s "$PEER" -mode client -target "$GO_ADDR" -workload bulk -bytes $(( ${BULK%M} << 20 )) "${G[@]}")
  stop_started "$GO_PID" "$GO_FD"
  row "bulk $BULK, $label (MB/s)" "$ours" "$theirs" "$(ratio "$ours" "$theirs")" "higher is better"
  cmd "kcpkestrel serve --kcp 127.0.0.1:0 --app sink ${O[*]}  +  kcpkestrel bench --kcp ADDR --workload bulk --bytes $BULK ${O[*]}"
  cmd "kcppeer -mode server -listen 127.0.0.1:0 -app sink ${G[*]}  +  kcppeer -mode client -target ADDR -workload bulk -bytes $(( ${BULK%M} << 20 )) ${G[*]}"
done

# ---- bulk through the lossy relay ----------------------------------------------------------------
for loss in 0.01 0.05; do
  log "bulk $LOSSY_BULK through the relay at loss $loss, FEC 10/3 + aes"
  start_ours sink "${SECURE_OURS[@]}"
  start_relay "$OURS_ADDR" "$loss"
  warm_ours "$RELAY_ADDR" "${SECURE_OURS[@]}"
  ours=$(run_reps mb_per_s $OURS bench --kcp "$RELAY_ADDR" --workload bulk --bytes "$LOSSY_BULK" "${SECURE_OURS[@]}")
  stop_started "$RELAY_PID" "$RELAY_FD"; stop_started "$OURS_PID" "$OURS_FD"
  start_go sink "${SECURE_GO[@]}"
  start_relay "$GO_ADDR" "$loss"
  warm_go "$RELAY_ADDR" "${SECURE_GO[@]}"
  theirs=$(run_reps mb_per_s "$PEER" -mode client -target "$RELAY_ADDR" -workload bulk -bytes $(( ${LOSSY_BULK%M} << 20 )) "${SECURE_GO[@]}")
  stop_started "$RELAY_PID" "$RELAY_FD"; stop_started "$GO_PID" "$GO_FD"
  pct=$(awk -v l="$loss" 'BEGIN{printf "%g", l*100}')
  row "bulk $LOSSY_BULK via relay, ${pct}% loss each way, 2+0-1 ms, FEC 10/3 + aes (MB/s)" "$ours" "$theirs" "$(ratio "$ours" "$theirs")" "higher is better"
  cmd "kcpkestrel relay --listen 127.0.0.1:0 --target SERVER --loss $loss --delay 2 --jitter 1 --seed 7 (in front of each server)"
done

# ---- ping-pong RTT ---------------------------------------------------------------------------------
log "ping-pong x$PINGS, 64 B, FEC 10/3 + aes"
start_ours echo "${SECURE_OURS[@]}"
# One discarded warm-up run each side: ours would otherwise time the JIT's first compilations.
$OURS bench --kcp "$OURS_ADDR" --workload pingpong --count "$PINGS" --size 64 "${SECURE_OURS[@]}" >/dev/null 2>&1 || true
ours50=$(run_reps rtt_p50_us $OURS bench --kcp "$OURS_ADDR" --workload pingpong --count "$PINGS" --size 64 "${SECURE_OURS[@]}")
ours99=$(run_reps rtt_p99_us $OURS bench --kcp "$OURS_ADDR" --workload pingpong --count "$PINGS" --size 64 "${SECURE_OURS[@]}")
stop_started "$OURS_PID" "$OURS_FD"
start_go echo "${SECURE_GO[@]}"
"$PEER" -mode client -target "$GO_ADDR" -workload pingpong -count "$PINGS" -size 64 "${SECURE_GO[@]}" >/dev/null 2>&1 || true
go50=$(run_reps rtt_p50_us "$PEER" -mode client -target "$GO_ADDR" -workload pingpong -count "$PINGS" -size 64 "${SECURE_GO[@]}")
go99=$(run_reps rtt_p99_us "$PEER" -mode client -target "$GO_ADDR" -workload pingpong -count "$PINGS" -size 64 "${SECURE_GO[@]}")
stop_started "$GO_PID" "$GO_FD"
row "ping-pong 64 B, RTT p50 (µs)" "$ours50" "$go50" "$(ratio "$ours50" "$go50")" "lower is better"
row "ping-pong 64 B, RTT p99 (µs)" "$ours99" "$go99" "$(ratio "$ours99" "$go99")" "lower is better"
cmd "kcpkestrel bench --kcp ADDR --workload pingpong --count $PINGS --size 64 ${SECURE_OURS[*]}  |  kcppeer -mode client -workload pingpong -count $PINGS -size 64 ${SECURE_GO[*]}"

# ---- many sessions: server CPU ----------------------------------------------------------------------
TCK=$(getconf CLK_TCK)
# sessions_run PID ADDR FLAGS...: one run of our sessions client; prints "cpu_percent us_per_round_trip p50 p99 ok errors".
# The server runs on core 0 and the client on core 1, so neither's CPU figure includes the other's work.
sessions_run() {
  local pid=$1 addr=$2; shift 2
  local t0 c0 line t1 c1 trips
  taskset -a -pc 0 "$pid" >/dev/null
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  line=$(taskset -c 1 $OURS bench --kcp "$addr" --workload sessions --sessions "$SESSIONS" --rate "$SESSION_RATE" --duration "$SESSION_SECONDS" --size 64 --timeout 600 "$@" 2>>"$WORK/clients.err" | tail -n1 || true)
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N)
  trips=$(jq -r '.bytes / 128' <<<"$line" 2>/dev/null || echo 0)
  awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$TCK" -v n="${trips:-0}" \
    'BEGIN { printf "%.1f %s ", (c1 - c0) / tck / (t1 - t0) * 100, (n > 0 ? sprintf("%.1f", (c1 - c0) / tck * 1e6 / n) : "nan") }'
  jq -r '"\(.rtt_p50_us) \(.rtt_p99_us) \(.ok) \(.errors)"' <<<"$line" 2>/dev/null || echo "nan nan false -1"
}
sessions_case() { # NAME start-function flags...
  local cpus=() costs=() p50s=() p99s=() notes=""
  for _ in $(seq 1 "$REPS"); do
    "$2" echo "${@:3}"
    local pid addr
    if [[ $2 == start_ours ]]; then pid=$OURS_PID; addr=$OURS_ADDR; else pid=$GO_PID; addr=$GO_ADDR; fi
    read -r cpu cost p50 p99 ok errors < <(sessions_run "$pid" "$addr" "${SECURE_OURS[@]}")
    [[ $ok == true ]] || notes="$notes errors=$errors"
    cpus+=("$cpu"); costs+=("$cost"); p50s+=("$p50"); p99s+=("$p99")
    if [[ $2 == start_ours ]]; then stop_started "$OURS_PID" "$OURS_FD"; else stop_started "$GO_PID" "$GO_FD"; fi
  done
  SESS_CPU=$(median "${cpus[@]}")
  SESS_COST=$(median "${costs[@]}")
  SESS_P50=$(median "${p50s[@]}")
  SESS_P99=$(median "${p99s[@]}")
  SESS_NOTES=$notes
}
log "$SESSIONS sessions x $SESSION_RATE msg/s x ${SESSION_SECONDS}s, FEC 10/3 + aes (our client against both servers)"
sessions_case ours start_ours "${SECURE_OURS[@]}"
o_cpu=$SESS_CPU; o_cost=$SESS_COST; o_p50=$SESS_P50; o_p99=$SESS_P99; o_notes=$SESS_NOTES
sessions_case go start_go "${SECURE_GO[@]}"
g_cpu=$SESS_CPU; g_cost=$SESS_COST; g_p50=$SESS_P50; g_p99=$SESS_P99; g_notes=$SESS_NOTES
row "$SESSIONS sessions x $SESSION_RATE msg/s: server CPU (% of one core)" "$o_cpu" "$g_cpu" "$(ratio "$o_cpu" "$g_cpu")" "lower is better${o_notes:+; ours:$o_notes}${g_notes:+; theirs:$g_notes}"
row "$SESSIONS sessions x $SESSION_RATE msg/s: server CPU per round trip (µs)" "$o_cost" "$g_cost" "$(ratio "$o_cost" "$g_cost")" "lower is better; CPU over the run / round trips done"
row "$SESSIONS sessions x $SESSION_RATE msg/s: RTT p50 / p99 (µs)" "$o_p50 / $o_p99" "$g_p50 / $g_p99" "$(ratio "$o_p50" "$g_p50") / $(ratio "$o_p99" "$g_p99")" "same client (ours) for both"
cmd "kcpkestrel bench --kcp ADDR --workload sessions --sessions $SESSIONS --rate $SESSION_RATE --duration $SESSION_SECONDS --size 64 ${SECURE_OURS[*]}  (against kcpkestrel serve --app echo and kcppeer -app echo; server CPU = delta utime+stime of /proc/PID/stat over the run; server pinned to core 0, client to core 1)"

# ---- references: TCP and the raw UDP ceiling ---------------------------------------------------------
log "references: TCP bulk and raw UDP ceiling"
start_with_stdin "ours-tcp" $OURS serve --kcp 127.0.0.1:0 --tcp 127.0.0.1:0 --app sink
TCP_ADDR=$(grep -o 'tcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
tcp=$(run_reps mb_per_s $OURS bench --tcp "$TCP_ADDR" --workload bulk --bytes "$BULK")
stop_started "$STARTED_PID" "$STARTED_FD"
blast=$(run_reps mb_per_s $OURS bench --workload udpblast --duration "$BLAST_SECONDS")
row "reference: bulk $BULK over Kestrel TCP, loopback (MB/s)" "$tcp" "" "" "kcpkestrel bench --tcp"
row "ceiling: raw UDP, 1400 B datagrams, sendmmsg/recvmmsg, loopback (MB/s received)" "$blast" "" "" "kcpkestrel bench --workload udpblast"
cmd "kcpkestrel bench --tcp ADDR --workload bulk --bytes $BULK   |   kcpkestrel bench --workload udpblast --duration $BLAST_SECONDS"

# ---- BENCHMARKS.md -----------------------------------------------------------------------------------
{
  echo "# KcpKestrel vs kcp-go: side by side"
  echo
  echo "Produced by \`benchmarks/compare/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). One machine, one sitting, loopback."
  echo
  echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(go version | awk '{print $3}')"
  echo "- Load: the cores were shared with other work while this ran (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)); treat absolute figures as indicative, the ratios as the point."
  echo "- Each case $REPS times, medians; a \`*\` marks a median over fewer runs because some failed."
  echo "- Ours: \`kcpkestrel serve\` + \`kcpkestrel bench\`. Theirs: kcp-go 5.6.1 (Debian), \`tests/GoPeer\` server + client. Same KCP settings: nodelay 1, interval 10, resend 2, nc 1 (our \`--mode fast3\`), windows 1024/1024, mtu 1350, stream mode."
  echo "- The sessions case uses our client against both servers (the Go peer has no sessions workload); it measures the server's CPU."
  echo
  echo "| case | ours | kcp-go | ours/theirs | note |"
  echo "|---|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "## Notes"
  echo
  echo "- Sessions: $SESSIONS sessions x $SESSION_RATE msg/s x ${SESSION_SECONDS} s, server pinned to core 0 and our client to core 1. One client process on the other core cannot offer 5,000 x 10 msg/s (50,000 AES + FEC round trips/s: it saturates its core and the RTT rows then measure its queueing), so the default rate is 2 msg/s per session: the issue's 5,000 sessions at a load one core can drive. kcp-go's server ticks every session every interval (10 ms), idle or not; ours wakes a session only when it has something to do, so the gap grows with sessions. The CPU rows include the dial phase of both runs."
  echo "- Warm servers: before the timed runs each server (and relay) gets one discarded $WARM bulk transfer, and each ping-pong server one discarded run, on both sides alike; a long-running .NET server has compiled its hot paths, a fresh one has not (a cold 64M run measured 75 MB/s where a warm one does 200+). The clients are fresh processes in every run, so ours still JIT-compiles within the timed run."
  echo "- The relay is kcpkestrel's own (\`kcpkestrel relay\`, user-space, seeded), in front of either server; loss applies to each direction."
  echo "- The UDP ceiling is one sender and one receiver thread on loopback (sendmmsg/recvmmsg, 64 datagrams per call); it shares the cores with whatever else runs, as every row does."
  echo
  echo "## Commands"
  echo
  printf -- '- `%s`\n' "${COMMANDS[@]}"
  echo
  echo "Run again: \`benchmarks/compare/run.sh\` (settings: REPS=$REPS BULK=$BULK WARM=$WARM LOSSY_BULK=$LOSSY_BULK PINGS=$PINGS SESSIONS=$SESSIONS SESSION_RATE=$SESSION_RATE SESSION_SECONDS=$SESSION_SECONDS BLAST_SECONDS=$BLAST_SECONDS)."
  echo
  echo "Other areas' tables: [benchmarks/results/](benchmarks/results/)."
} >"$OUT"
log "wrote $OUT"
