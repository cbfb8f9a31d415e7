#!/usr/bin/env bash
# Issue #20's side-by-side benchmark: ZeroMQ epgm (benchmarks/multicast/zmqpeer) against our multicast
# (`kcpkestrel multicast bench`), one run, on loopback multicast, the same message size and count, interleaved
# rounds (epgm, ours, ours with loss, epgm, ours, ...) so drift in the machine's load hits both alike; medians.
#
#   benchmarks/multicast/compare.sh                  # COUNT=1000000 SIZE=70 ROUNDS=3 PINGPONG=20000
#   COUNT=200000 ROUNDS=1 PINGPONG=2000 benchmarks/multicast/compare.sh   # a quick look
#   NO_RESULTS=1 benchmarks/multicast/compare.sh     # print the table only, leave benchmarks/results/multicast.md
#
# Rows: 1 -> 1 and 1 -> 3 lossless (ours / epgm); 1 -> 1 with 5 % loss dropped at the subscriber by ours'
# seeded diagnostic filter (OpenPGM has no such filter and tc netem is not available here: the loss row is
# compared with ours lossless (goal >= 0.5) and with epgm lossless); ping-pong RTT blocking and busy-poll
# (ZeroMQ has no busy-poll: both ours rows are against epgm's blocking one). Rates are the slowest subscriber's
# (messages over its first-to-last-message time); CPU is user + system seconds of a whole process: the
# publisher's from its first message to the end of the run, a subscriber's from its first message to its last.
# Writes the table between the compare.sh markers in benchmarks/results/multicast.md.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

COUNT=${COUNT:-1000000}
SIZE=${SIZE:-70}
ROUNDS=${ROUNDS:-3}
PINGPONG=${PINGPONG:-20000}
DROP=${DROP:-0.05}
BIG_DATAGRAM=${BIG_DATAGRAM:-8192} # ours: the larger-datagram rows (epgm keeps its 1500-byte TPDU)
RATE=${RATE:-1000000}          # epgm: ZMQ_RATE, kbit/s (libzmq 4.3 overflows above 2147483)
RECOVERY_MS=${RECOVERY_MS:-2000}
INTERFACE=${INTERFACE:-127.0.0.1}
PORT=${PORT:-$((41000 + RANDOM % 7000))}
RESULTS=$ROOT/benchmarks/results/multicast.md

command -v cc >/dev/null || { echo "cc is not on PATH" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is not on PATH (apt-get install jq)" >&2; exit 1; }
[[ -f /usr/include/zmq.h ]] || { echo "zmq.h missing: apt-get install libzmq3-dev" >&2; exit 1; }
out=$(bench_build_dir mcbench)
mkdir -p "$out/zmq" "$out/cli"
cc -O2 -Wall -Wextra -o "$out/zmq/zmqpeer" "$ROOT/benchmarks/multicast/zmqpeer/zmqpeer.c" -lzmq
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo -o "$out/cli" >/dev/null
PEER=$out/zmq/zmqpeer
OURS=(dotnet "$out/cli/KcpKestrel.Cli.dll" multicast bench --interface "$INTERFACE" --size "$SIZE" --seconds 120)
bench_workdir mcbench
bench_lock
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; libzmq $(dpkg-query -W -f '${Version}' libzmq5 2>/dev/null)"

next_port() { PORT=$((PORT + 1)); }

# epgm_run K FILE: one epgm publisher to K subscribers; FILE gets one JSON line shaped like ours' bench line.
epgm_run() {
  local k=$1 file=$2 pids=() i ep
  next_port
  ep="epgm://$INTERFACE;239.192.7.1:$PORT"
  for i in $(seq 1 "$k"); do
    "$PEER" sub --endpoint "$ep" --count "$COUNT" --size "$SIZE" --rate "$RATE" --recovery-ms "$RECOVERY_MS" \
      --timeout 60 >"$file.sub$i" 2>>"$WORK/log" &
    pids+=($!); track_pid $!
  done
  sleep 1 # PGM has no late-join history: the subscribers join before the first message
  "$PEER" pub --endpoint "$ep" --count "$COUNT" --size "$SIZE" --rate "$RATE" --recovery-ms "$RECOVERY_MS" \
    --linger-ms 1000 >"$file.pub" 2>>"$WORK/log" &
  track_pid $!
  pids+=($!)
  for i in "${pids[@]}"; do wait "$i" || true; done
  jq -cs '{msg_per_s: (.[1:] | map(.msg_per_s) | min), cpu_s: .[0].cpu_s_total,
           sub_cpu_s: (.[1:] | map(.cpu_s) | add / length * 1000 | round / 1000), lost: (.[1:] | map(.unrecovered) | add),
           duplicates: (.[1:] | map(.duplicates) | add), naks_sent: null, retransmits: null}' \
    < <(for f in "$file.pub" "$file".sub*; do tail -1 "$f"; done) >"$file" # OpenPGM's warnings may come first
}

# ours_run K FILE [FLAGS...]: our bench, K subscriber processes; FILE gets the same fields.
ours_run() {
  local k=$1 file=$2
  shift 2
  next_port
  # Our defaults (HistoryPackets, RepairHold): the figures are what a user gets.
  "${OURS[@]}" --workload throughput --group "239.192.7.1:$PORT" --subscribers "$k" --count "$COUNT" \
    "$@" >"$file.raw" 2>>"$WORK/log" || true
  tail -1 "$file.raw" | jq -c '{msg_per_s: .sub_msg_per_s_min, cpu_s: .cpu_s, sub_cpu_s: .sub_cpu_s_mean,
    lost, duplicates: (.duplicates + .reordered), naks_sent, retransmits}' >"$file" 2>/dev/null \
    || echo '{"msg_per_s":0,"cpu_s":0,"sub_cpu_s":0,"lost":null,"duplicates":null,"naks_sent":null,"retransmits":null}' >"$file"
}

epgm_ping() {
  next_port
  local a="epgm://$INTERFACE;239.192.7.1:$PORT" b="epgm://$INTERFACE;239.192.7.2:$((PORT + 1))"
  next_port
  "$PEER" pong --endpoint "$a" --back "$b" --count "$PINGPONG" --size "$SIZE" --rate "$RATE" --timeout 60 \
    >/dev/null 2>>"$WORK/log" &
  track_pid $!
  sleep 1
  "$PEER" ping --endpoint "$a" --back "$b" --count "$PINGPONG" --size "$SIZE" --rate "$RATE" --timeout 60 \
    >"$1.raw" 2>>"$WORK/log" || true
  tail -1 "$1.raw" | jq -c '{p50: .rtt_p50_us, p999: .rtt_p999_us, mean: .rtt_mean_us, cpu_s}' >"$1"
}

ours_ping() {
  local file=$1
  shift
  next_port
  "${OURS[@]}" --workload pingpong --group "239.192.7.1:$PORT" --count "$PINGPONG" "$@" >"$file.raw" 2>>"$WORK/log" || true
  tail -1 "$file.raw" | jq -c '{p50: .rtt_us_p50, p999: .rtt_us_p999, mean: .rtt_us_mean, cpu_s}' >"$file"
}

for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  epgm_run 1 "$WORK/epgm1.$round"
  ours_run 1 "$WORK/ours1.$round"
  ours_run 1 "$WORK/lossy1.$round" --drop "$DROP" --seed "$round"
  epgm_run 3 "$WORK/epgm3.$round"
  ours_run 3 "$WORK/ours3.$round"
  ours_run 3 "$WORK/lossy3.$round" --drop "$DROP" --seed "$round"
  ours_run 1 "$WORK/big1.$round" --datagram "$BIG_DATAGRAM"
  ours_run 3 "$WORK/big3.$round" --datagram "$BIG_DATAGRAM"
  if [[ "$PINGPONG" -gt 0 ]]; then
    epgm_ping "$WORK/epgmpp.$round"
    ours_ping "$WORK/ourspp.$round"
    ours_ping "$WORK/busypp.$round" --busy-poll
  fi
  for f in epgm1 ours1 lossy1 epgm3 ours3 lossy3 big1 big3 epgmpp ourspp busypp; do
    [[ -f "$WORK/$f.$round" ]] && echo "  $f.$round $(cat "$WORK/$f.$round")" >&2
  done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# pick NAME FIELD: the round whose FIELD is the median over the rounds (the lower middle one for an even count),
# so a row's other figures (CPU, counts) come from that same, measured, round.
pick() { for r in $(seq 1 "$ROUNDS"); do echo "$(jq -r ".$2 // 0" "$WORK/$1.$r") $r"; done | median_row | cut -d' ' -f2; }
# val NAME ROUND FIELD
val() { jq -r ".$3 // \"n/a\"" "$WORK/$1.$2"; }
# sum NAME FIELD: the sum of FIELD over the rounds (n/a when a side does not report it).
sum() { for r in $(seq 1 "$ROUNDS"); do jq -r ".$2" "$WORK/$1.$r"; done | awk '$1 == "null" {n = 1} {s += $1} END {print n ? "n/a" : s}'; }
# ratio A B: A / B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
# ratios A B FIELD: the per-round ratios A / B of FIELD (each pair ran back to back).
ratios() { for r in $(seq 1 "$ROUNDS"); do ratio "$(val "$1" "$r" "$3")" "$(val "$2" "$r" "$3")"; echo; done | paste -sd' '; }
mps() { awk -v v="$1" 'BEGIN {printf "%.2f M", v / 1e6}'; }

row() { # row LABEL OURS BASE
  local o=$2 b=$3 ro rb
  ro=$(pick "$o" msg_per_s) rb=$(pick "$b" msg_per_s)
  printf '| %s | %s (pub %s, sub %s) | %s (pub %s, sub %s) | **%s** (%s) | %s / %s / %s | %s / %s |\n' "$1" \
    "$(mps "$(val "$o" "$ro" msg_per_s)")" "$(val "$o" "$ro" cpu_s)" "$(val "$o" "$ro" sub_cpu_s)" \
    "$(mps "$(val "$b" "$rb" msg_per_s)")" "$(val "$b" "$rb" cpu_s)" "$(val "$b" "$rb" sub_cpu_s)" \
    "$(ratio "$(val "$o" "$ro" msg_per_s)" "$(val "$b" "$rb" msg_per_s)")" "$(ratios "$o" "$b" msg_per_s)" \
    "$(sum "$o" lost)" "$(sum "$o" duplicates)" "$(sum "$b" lost)" "$(sum "$o" naks_sent)" "$(sum "$o" retransmits)"
}
pp_row() { # pp_row LABEL OURS
  local o=$2 ro rb
  ro=$(pick "$o" p50) rb=$(pick epgmpp p50)
  printf '| %s | p50 %s, p99.9 %s, mean %s (CPU %s) | p50 %s, p99.9 %s, mean %s (CPU %s) | **%s** / **%s** |\n' "$1" \
    "$(val "$o" "$ro" p50)" "$(val "$o" "$ro" p999)" "$(val "$o" "$ro" mean)" "$(val "$o" "$ro" cpu_s)" \
    "$(val epgmpp "$rb" p50)" "$(val epgmpp "$rb" p999)" "$(val epgmpp "$rb" mean)" "$(val epgmpp "$rb" cpu_s)" \
    "$(ratio "$(val "$o" "$ro" p50)" "$(val epgmpp "$rb" p50)")" "$(ratio "$(val "$o" "$ro" p999)" "$(val epgmpp "$rb" p999)")"
}

table=$WORK/table.md
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC by \`benchmarks/multicast/compare.sh\` (COUNT=$COUNT SIZE=$SIZE ROUNDS=$ROUNDS" \
    "PINGPONG=$PINGPONG DROP=$DROP BIG_DATAGRAM=$BIG_DATAGRAM RATE=$RATE), medians of $ROUNDS interleaved rounds;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) after; commit $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "Rates: the slowest subscriber's msg/s in the median round (by that rate); CPU: user + system seconds for the"
  echo "$COUNT messages in that round (pub: the publishing process; sub: one subscriber process, the mean of them)."
  echo "Ratio: of the two median rounds, then each round's (the two ran back to back). Lost, duplicates + reordered,"
  echo "NAKs sent and resends: summed over all rounds."
  echo
  echo "| workload | ours msg/s (CPU s) | baseline msg/s (CPU s) | ours / baseline (by round) | lost ours / dup+reord. ours / lost baseline | ours NAKs / resends |"
  echo "|---|---:|---:|---:|---|---|"
  row "1 → 1 vs epgm" ours1 epgm1
  row "1 → 3 vs epgm" ours3 epgm3
  row "1 → 1, ${DROP} loss, vs ours lossless" lossy1 ours1
  row "1 → 1, ${DROP} loss, vs epgm lossless" lossy1 epgm1
  row "1 → 3, ${DROP} loss at each, vs ours lossless" lossy3 ours3
  row "1 → 1, ours with ${BIG_DATAGRAM}-byte datagrams, vs epgm" big1 epgm1
  row "1 → 3, ours with ${BIG_DATAGRAM}-byte datagrams, vs epgm" big3 epgm3
  if [[ "$PINGPONG" -gt 0 ]]; then
    echo
    echo "Ping-pong: one message in flight; RTT in µs; CPU: seconds for the $PINGPONG round trips (ours: both nodes, one"
    echo "process; epgm: the pinging process), the median round by p50. A ratio below 1 is ours faster."
    echo
    echo "| ping-pong, $SIZE B, $PINGPONG round trips (µs) | ours | epgm (blocking) | ours / epgm p50 / p99.9 |"
    echo "|---|---|---|---:|"
    pp_row "blocking" ourspp
    pp_row "busy-poll (ours)" busypp
  fi
} >"$table"
cat "$table"

if [[ "${NO_RESULTS:-}" != 1 ]]; then
  # Replace what lies between the markers; the hand-written text around them stays.
  python3 - "$RESULTS" "$table" <<'EOF'
import sys
path, table = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
begin, end = "<!-- compare.sh begin -->\n", "<!-- compare.sh end -->\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + table + end + tail)
EOF
  log "table written to $RESULTS"
fi
