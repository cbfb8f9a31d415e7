#!/usr/bin/env bash
# How long a client takes to notice that its server crashed: `serve --app echo` on loopback, SESSIONS
# `bench --workload sessions` clients ping-ponging at RATE, SIGKILL to serve after 2 s; the figure is the time from the
# kill to the bench's exit, which is when its last session was found ended (the bench has no server to redial to).
# No close signal comes; the kernel's ICMP port-unreachable is, to KCP as to kcp-go, a lost datagram; so what ends a
# session is the client's own dead link, idle timeout or round-trip bound. Prints a markdown table (docs/scale-out.md,
# "When an instance crashes"). RUNS runs per case.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/lib.sh
SESSIONS=${SESSIONS:-30}
RATE=${RATE:-10}
RUNS=${RUNS:-2}
PORT=${PORT:-47380}
CLI=src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli
[ -x "$CLI" ] || dotnet build -c Release src/KcpKestrel.Cli >/dev/null
bench_lock
bench_workdir crash-notice

# name|flags for both ends|bench's --round-trip-timeout (600: out of the way, so KCP's own timers decide)
CASES=(
  "defaults (fast, dead link 20, idle 60 s)||600"
  "--dead-link 10|--dead-link 10|600"
  "--mode fast3|--mode fast3|600"
  "--idle-timeout 5|--idle-timeout 5|600"
  "defaults, bench's --round-trip-timeout (5 s default)||5"
)

echo "| client settings | found ended after (s) | how (ended_error / ended_timeout of $SESSIONS) |"
echo "| --- | --- | --- |"
for case in "${CASES[@]}"; do
  IFS='|' read -r name flags rtt <<<"$case"
  read -r -a extra <<<"$flags"
  times=()
  how=
  for _ in $(seq 1 "$RUNS"); do
    "$CLI" serve --kcp 127.0.0.1:$PORT --app echo "${extra[@]}" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    spid=$!
    track_pid $spid
    for _ in $(seq 1 100); do grep -q '^listening' "$WORK/serve.out" && break; sleep 0.1; done
    "$CLI" bench --kcp 127.0.0.1:$PORT --workload sessions --sessions "$SESSIONS" --rate "$RATE" --duration 300 \
      --round-trip-timeout "$rtt" --timeout 400 "${extra[@]}" >"$WORK/bench.out" 2>"$WORK/bench.err" &
    bpid=$!
    track_pid $bpid
    sleep 2
    t0=$(date +%s.%N)
    kill -KILL $spid
    wait $spid 2>/dev/null || true
    wait $bpid 2>/dev/null || true
    t1=$(date +%s.%N)
    times+=("$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")")
    json=$(tail -n1 "$WORK/bench.out")
    how="$(grep -o '"ended_error":[0-9]*' <<<"$json" | cut -d: -f2) / $(grep -o '"ended_timeout":[0-9]*' <<<"$json" | cut -d: -f2)"
  done
  echo "| $name | ${times[*]} | $how |"
done
