#!/usr/bin/env bash
# The ZeroMQ epgm baseline for issue #20: one publisher to one and to three subscribers over OpenPGM encapsulated in
# UDP, on loopback multicast, 70-byte messages, a fixed count; prints msg/s and CPU per side, the median of RUNS.
#
#   benchmarks/multicast/epgm.sh                      # COUNT=1000000 SIZE=70 RATE=1000000 (kbit/s) RUNS=3 FANOUT="1 3"
#   COUNT=200000 RUNS=1 benchmarks/multicast/epgm.sh  # quicker
#   PINGPONG=20000 benchmarks/multicast/epgm.sh       # also ping-pong RTT over two groups (0 skips it)
#
# Needs libzmq built with PGM (Debian: apt-get install libzmq3-dev; libzmq5 links libpgm). The peer is
# benchmarks/multicast/zmqpeer/zmqpeer.c; its JSON lines have the shape of `kcpkestrel multicast pub|sub`.
# OpenPGM warns that lo "reports as a non-multicast capable device" but sends and receives there all the same
# (IP_MULTICAST_IF 127.0.0.1, ZeroMQ's ZMQ_MULTICAST_LOOP defaults on); the warnings go to each run's log.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

COUNT=${COUNT:-1000000}
SIZE=${SIZE:-70}
RATE=${RATE:-1000000}          # ZMQ_RATE, kbit/s; libzmq 4.3 overflows above 2147483
RECOVERY_MS=${RECOVERY_MS:-2000}
RUNS=${RUNS:-3}
FANOUT=${FANOUT:-"1 3"}
PINGPONG=${PINGPONG:-20000}
INTERFACE=${INTERFACE:-127.0.0.1}
GROUP=${GROUP:-239.192.7.1}
PORT=${PORT:-40100}

command -v cc >/dev/null || { echo "cc is not on PATH" >&2; exit 1; }
[[ -f /usr/include/zmq.h ]] || { echo "zmq.h missing: apt-get install libzmq3-dev" >&2; exit 1; }
out=$(bench_build_dir zmqpeer)
mkdir -p "$out"
cc -O2 -Wall -Wextra -o "$out/zmqpeer" "$ROOT/benchmarks/multicast/zmqpeer/zmqpeer.c" -lzmq
PEER=$out/zmqpeer
bench_workdir epgm

# json_field NAME < LINE: the value of a top-level number field of a one-line JSON object.
json_field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }

bench_lock
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; libzmq $(dpkg-query -W -f '${Version}' libzmq5 2>/dev/null)"
echo "# epgm 1->k: count=$COUNT size=$SIZE rate=${RATE}kbit/s recovery=${RECOVERY_MS}ms, median of $RUNS"
printf '%-7s %-4s %12s %8s %14s %14s %8s %11s %s\n' fanout run pub_msg_s pub_cpu sub_msg_s_min sub_msg_s_max sub_cpu unrecovered checksum_ok
for k in $FANOUT; do
  rows=()
  for run in $(seq 1 "$RUNS"); do
    port=$((PORT + run + 10 * k)) # a fresh port each run: no late repair traffic from the previous run
    ep="epgm://$INTERFACE;$GROUP:$port"
    pids=()
    for i in $(seq 1 "$k"); do
      "$PEER" sub --endpoint "$ep" --count "$COUNT" --size "$SIZE" --rate "$RATE" --recovery-ms "$RECOVERY_MS" \
        --timeout 120 >"$WORK/sub.$k.$run.$i" 2>>"$WORK/log" &
      pids+=($!); track_pid $!
    done
    sleep 1 # the subscribers must have joined before the first message: PGM has no late-join history here
    "$PEER" pub --endpoint "$ep" --count "$COUNT" --size "$SIZE" --rate "$RATE" --recovery-ms "$RECOVERY_MS" \
      --linger-ms 3000 >"$WORK/pub.$k.$run" 2>>"$WORK/log" &
    pub=$!; track_pid $pub
    for p in "${pids[@]}"; do wait "$p" || true; done
    wait "$pub" || true
    pub_line=$(tail -1 "$WORK/pub.$k.$run")
    rates=() cpus=() unrec=0 ok=true
    for i in $(seq 1 "$k"); do
      line=$(tail -1 "$WORK/sub.$k.$run.$i")
      echo "  sub $k.$run.$i $line" >&2
      rates+=("$(json_field msg_per_s <<<"$line")")
      cpus+=("$(json_field cpu_s <<<"$line")")
      unrec=$((unrec + $(json_field unrecovered <<<"$line")))
      [[ "$(json_field checksum_ok <<<"$line")" == true ]] || ok=false
    done
    echo "  pub $k.$run $pub_line" >&2
    min=$(printf '%s\n' "${rates[@]}" | sort -g | head -1)
    max=$(printf '%s\n' "${rates[@]}" | sort -g | tail -1)
    # pub_cpu: the publisher's whole CPU seconds (ZeroMQ's I/O thread keeps sending after zmq_send has queued the
    # last message; the 3 s it then stays to answer NAKs cost next to nothing). pub_msg_s: how fast zmq_send queued.
    # sub_cpu: the mean CPU seconds of one subscriber from its first to its last message.
    cpu=$(printf '%s\n' "${cpus[@]}" | awk '{s += $1} END {printf "%.3f", s / NR}')
    rows+=("$min $max $(json_field msg_per_s <<<"$pub_line") $(json_field cpu_s_total <<<"$pub_line") $cpu $unrec $ok $run")
  done
  # the median run by the slowest subscriber's rate
  read -r min max pubr pubc cpu unrec ok run < <(printf '%s\n' "${rows[@]}" | median_row)
  printf '%-7s %-4s %12s %8s %14s %14s %8s %11s %s\n' "1->$k" "$run" "$pubr" "$pubc" "$min" "$max" "$cpu" "$unrec" "$ok"
done

if [[ "$PINGPONG" -gt 0 ]]; then
  a="epgm://$INTERFACE;$GROUP:$((PORT + 90))" b="epgm://$INTERFACE;239.192.7.2:$((PORT + 91))"
  "$PEER" pong --endpoint "$a" --back "$b" --count "$PINGPONG" --size "$SIZE" --rate "$RATE" --timeout 60 \
    >"$WORK/pong" 2>>"$WORK/log" &
  track_pid $!
  sleep 1
  # into a file, not $(...): the subshell would run lib.sh's EXIT trap and end the pong early
  "$PEER" ping --endpoint "$a" --back "$b" --count "$PINGPONG" --size "$SIZE" --rate "$RATE" --timeout 60 \
    >"$WORK/ping" 2>>"$WORK/log" || true
  echo "# epgm ping-pong, $SIZE bytes, one in flight:"
  tail -1 "$WORK/ping"
fi
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
