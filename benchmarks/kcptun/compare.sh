#!/usr/bin/env bash
# Issue #21's side-by-side benchmark: a kcptun tunnel (Debian's kcptun-client -> kcptun-server, 20210922) against
# ours (kcpkestrel tunnel client -> kcpkestrel tunnel server), same settings (kcptun's defaults: aes, FEC 10/3, mode
# fast, snappy, smux v1, each side's windows), same run, interleaved rounds (kcptun, ours, kcptun, ...), medians.
#
#   benchmarks/kcptun/compare.sh                      # BYTES=256M ROUNDS=3 REQUESTS=20000
#   BYTES=64M ROUNDS=1 REQUESTS=5000 benchmarks/kcptun/compare.sh   # a quick look
#   EXTRA="--nocomp --mode fast3" benchmarks/kcptun/compare.sh        # other settings, given to all four ends
#   NO_RESULTS=1 benchmarks/kcptun/compare.sh         # print the table only
#
# The load is `kcpkestrel bench --tcp` against the tunnel client's local TCP port; the tunnel server's target is
# `kcpkestrel serve --tcp ... --app sink|echo|http` (the same target process for both tunnels). Rows: bulk to the sink
# over 1 and 16 concurrent streams (--streams 16), echo over 1 stream (SHA-256 checked), HTTP/1.1 keep-alive requests/s
# (16 connections) and requests/s with a new tunnel stream per request (Connection: close). CPU is user + system
# seconds of the two tunnel processes (client + server) during the row, beside every rate.
# Writes the table between the compare.sh markers in benchmarks/results/kcptun.md.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

BYTES=${BYTES:-256M}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-20000}
CLOSE_REQUESTS=${CLOSE_REQUESTS:-5000}
EXTRA=${EXTRA:-}
KEY=${KEY:-kcpkestrel-bench}
PORT=${PORT:-$((42000 + RANDOM % 7000))}
RESULTS=$ROOT/benchmarks/results/kcptun.md

command -v kcptun-client >/dev/null || { echo "kcptun-client is not on PATH (apt-get install kcptun)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is not on PATH (apt-get install jq)" >&2; exit 1; }
out=$(bench_build_dir kcptunbench)
mkdir -p "$out/cli"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo -o "$out/cli" >/dev/null
CLI=(dotnet "$out/cli/KcpKestrel.Cli.dll")
bench_workdir kcptunbench
bench_lock
TICK=$(getconf CLK_TCK)
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; kcptun $(dpkg-query -W -f '${Version}' kcptun 2>/dev/null); settings: kcptun defaults $EXTRA"

next_port() { PORT=$((PORT + 1)); echo "$PORT"; }

# wait_line FILE PATTERN: until FILE has a line matching PATTERN (10 s).
wait_line() {
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

# start_target APP: a serve process with a TCP endpoint; sets TARGET_PID and TARGET (host:port).
start_target() {
  "${CLI[@]}" serve --kcp 127.0.0.1:0 --tcp 127.0.0.1:0 --app "$1" >"$WORK/target-$1.out" 2>&1 &
  TARGET_PID=$!
  track_pid "$TARGET_PID"
  wait_line "$WORK/target-$1.out" "^listening"
  TARGET=$(grep -o 'tcp=[0-9.:]*' "$WORK/target-$1.out" | head -1 | cut -d= -f2)
}

# start_tunnel IMPL: kcptun or ours, server then client, fresh ports; sets SERVER_PID CLIENT_PID LOCAL.
start_tunnel() {
  local udp tcp
  udp=$(next_port)
  tcp=$(next_port)
  # shellcheck disable=SC2086
  if [[ $1 == kcptun ]]; then
    kcptun-server --listen "127.0.0.1:$udp" --target "$TARGET" --key "$KEY" --quiet $EXTRA >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    kcptun-client --localaddr "127.0.0.1:$tcp" --remoteaddr "127.0.0.1:$udp" --key "$KEY" --quiet $EXTRA >"$WORK/client.log" 2>&1 &
    CLIENT_PID=$!
  else
    "${CLI[@]}" tunnel server --listen "127.0.0.1:$udp" --target "$TARGET" --key "$KEY" --quiet $EXTRA >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    "${CLI[@]}" tunnel client --localaddr "127.0.0.1:$tcp" --remoteaddr "127.0.0.1:$udp" --key "$KEY" --quiet $EXTRA >"$WORK/client.log" 2>&1 &
    CLIENT_PID=$!
  fi
  track_pid "$SERVER_PID" "$CLIENT_PID"
  LOCAL=127.0.0.1:$tcp
  wait_line "$WORK/server.log" "listening on"
  wait_line "$WORK/client.log" "listening on"
}

stop_pids() { kill "$@" 2>/dev/null || true; for p in "$@"; do wait "$p" 2>/dev/null || true; done; }

# measure IMPL ROW BENCH-ARGS...: one bench through a fresh tunnel; appends "value cpu_s ok" to $WORK/IMPL.ROW.
measure() {
  local impl=$1 row=$2 before after line value
  shift 2
  start_tunnel "$impl"
  before=$(( $(cpu_ticks "$SERVER_PID") + $(cpu_ticks "$CLIENT_PID") ))
  line=$("${CLI[@]}" bench --tcp "$LOCAL" --timeout 300 "$@" 2>/dev/null | tail -1 || true)
  after=$(( $(cpu_ticks "$SERVER_PID") + $(cpu_ticks "$CLIENT_PID") ))
  stop_pids "$CLIENT_PID" "$SERVER_PID"
  if [[ $row == http* ]]; then value=$(jq -r '.requests_per_s' <<<"$line"); else value=$(jq -r '.mb_per_s' <<<"$line"); fi
  [[ $(jq -r '.ok' <<<"$line") == true ]] || log "$impl $row failed: $line"
  echo "$value $(awk -v t=$((after - before)) -v k="$TICK" 'BEGIN {printf "%.2f", t / k}') $(jq -r '.ok' <<<"$line")" >>"$WORK/$impl.$row"
  log "$impl $row: $value (cpu $(tail -1 "$WORK/$impl.$row" | cut -d' ' -f2) s)"
}

ROWS=(bulk1 bulk16 echo1 http httpclose)
for round in $(seq "$ROUNDS"); do
  log "round $round"
  for app in sink echo http; do
    start_target "$app"
    for impl in kcptun ours; do
      case $app in
        sink)
          measure "$impl" bulk1 --workload bulk --bytes "$BYTES"
          measure "$impl" bulk16 --workload bulk --bytes "$BYTES" --streams 16 ;;
        echo)
          measure "$impl" echo1 --workload echo --bytes "$BYTES" ;;
        http)
          measure "$impl" http --workload http --count "$REQUESTS" --concurrency 16
          measure "$impl" httpclose --workload http --count "$CLOSE_REQUESTS" --concurrency 16 --connection-close ;;
      esac
    done
    stop_pids "$TARGET_PID"
  done
done

label() {
  case $1 in
    bulk1) echo "bulk to a sink, 1 stream ($BYTES), MB/s" ;;
    bulk16) echo "bulk to a sink, 16 streams ($BYTES in all), MB/s" ;;
    echo1) echo "echo, 1 stream ($BYTES, SHA-256 checked), MB/s" ;;
    http) echo "HTTP/1.1 keep-alive, 16 connections ($REQUESTS requests), req/s" ;;
    httpclose) echo "HTTP/1.1, a new tunnel stream per request ($CLOSE_REQUESTS requests), req/s" ;;
  esac
}

table="| row | kcptun | tunnel CPU s | ours | tunnel CPU s | ours / kcptun |
| --- | ---: | ---: | ---: | ---: | ---: |"
for row in "${ROWS[@]}"; do
  k=$(median_row <"$WORK/kcptun.$row")
  o=$(median_row <"$WORK/ours.$row")
  ratio=$(awk -v a="${o%% *}" -v b="${k%% *}" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
  fails=$(cat "$WORK/kcptun.$row" "$WORK/ours.$row" | awk '$3 != "true"' | wc -l)
  note=""; [[ $fails -gt 0 ]] && note=" ($fails failed runs)"
  table+="
| $(label "$row")$note | $(cut -d' ' -f1 <<<"$k") | $(cut -d' ' -f2 <<<"$k") | $(cut -d' ' -f1 <<<"$o") | $(cut -d' ' -f2 <<<"$o") | **$ratio×** |"
done

header="Run $(date -u +'%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r), loopback; kcptun $(dpkg-query -W -f '${Version}' kcptun 2>/dev/null); medians of $ROUNDS interleaved rounds; settings: kcptun's defaults${EXTRA:+ plus $EXTRA}; \`benchmarks/kcptun/compare.sh\` (BYTES=$BYTES ROUNDS=$ROUNDS REQUESTS=$REQUESTS CLOSE_REQUESTS=$CLOSE_REQUESTS)."
printf '%s\n\n%s\n' "$header" "$table"
if [[ "${NO_RESULTS:-}" != 1 ]]; then
  block="<!-- compare.sh ${EXTRA:-defaults} -->
$header

$table
<!-- /compare.sh ${EXTRA:-defaults} -->"
  if [[ -f $RESULTS ]] && grep -qF "<!-- compare.sh ${EXTRA:-defaults} -->" "$RESULTS"; then
    BLOCK=$block MARK="${EXTRA:-defaults}" python3 - "$RESULTS" <<'PY'
import os, sys
p = sys.argv[1]; s = open(p).read(); m = os.environ["MARK"]
a = s.index(f"<!-- compare.sh {m} -->"); e = s.index(f"<!-- /compare.sh {m} -->") + len(f"<!-- /compare.sh {m} -->")
open(p, "w").write(s[:a] + os.environ["BLOCK"] + s[e:])
PY
  else
    [[ -f $RESULTS ]] || printf '# kcptun against KcpKestrel tunnels\n\nWritten by `benchmarks/kcptun/compare.sh`.\n\n' >"$RESULTS"
    printf '%s\n\n' "$block" >>"$RESULTS"
  fi
  log "wrote $RESULTS"
fi
