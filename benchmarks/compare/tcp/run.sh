#!/usr/bin/env bash
# TechEmpower-style plaintext (GET /plaintext -> "Hello, World!") over Kestrel's default sockets transport, the
# tuned (epoll) TCP listener and, once PlaintextServer accepts `--transport iouring`, the io_uring engine; one
# machine, one sitting. Not part of CI.
#
# Scenarios: keep-alive (CONNECTIONS connections, one request in flight each), pipelined (PIPELINE requests per
# write, wrk + pipeline.lua), churn (`Connection: close`: one request per connection) and, when named in SCENARIOS,
# large (GET /large, a 1 MiB body, LARGE_CONNECTIONS connections kept alive; e.g. for --zerocopy).
# Server pinned to SERVER_CPUS, wrk (one thread) to WRK_CPUS. Each round runs every variant once per scenario,
# variants alternating, a fresh server each time with a WARMUP wrk run first (JIT, pools) that is not counted.
# Reported per cell: the median req/s over ROUNDS, the ratio to `default` of the same run, and the median server
# CPU per request: utime+stime from /proc/<pid>/stat across the measured wrk run only, divided by the requests
# wrk completed in it.
#
# Tools: wrk is not part of .ci/run; install it locally with `apt-get install -y wrk` (Debian 12: wrk 4.1.0).
# Usage: benchmarks/compare/tcp/run.sh [out.md]
#   VARIANTS='name|server args;name|server args'  replaces the variant list (the first is the ratio base), e.g. for
#   one-knob A/B runs: VARIANTS='default|--transport default;wfd0|--transport default --wait-for-data 0'.
#   A variant may name its own server binary as a third field, 'name|server args|/path/to/PlaintextServer' (e.g. a
#   build of an earlier commit, to measure a change before and after in the same run).
#   SCENARIOS='keepalive pipelined churn' picks scenarios (add `large` for the 1 MiB responses).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. benchmarks/lib.sh
SERVER_CPUS=${SERVER_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-256}
PIPELINE=${PIPELINE:-16}
LARGE_CONNECTIONS=${LARGE_CONNECTIONS:-16}
PORT=${PORT:-18080}
SCENARIOS=${SCENARIOS:-keepalive pipelined churn}
VARIANTS=${VARIANTS:-default|--transport default;tuned|--transport tuned;iouring|--transport iouring}
OUT=${1:-/dev/null}

command -v wrk >/dev/null || { echo "wrk is not on PATH: apt-get install -y wrk" >&2; exit 1; }
out_dir=$(bench_build_dir plaintext-server)
dotnet build benchmarks/compare/tcp/PlaintextServer -c Release -o "$out_dir" >/dev/null
bench_lock
server=$out_dir/PlaintextServer
url="http://127.0.0.1:$PORT/plaintext"
lua="$ROOT/benchmarks/compare/tcp/pipeline.lua"
tck=$(getconf CLK_TCK)
IFS=';' read -r -a variants <<<"$VARIANTS"

wrk_args() { # scenario -> wrk arguments after the URL-less options
  case $1 in
    keepalive) echo "-t1 -c$CONNECTIONS" ;;
    pipelined) echo "-t1 -c$CONNECTIONS -s $lua" ;;
    churn) echo "-t1 -c$CONNECTIONS" ;;
    large) echo "-t1 -c$LARGE_CONNECTIONS" ;;
  esac
}

run_wrk() { # scenario duration -> wrk's output
  local extra=() tail=()
  [ "$1" = churn ] && extra=(-H 'Connection: close')
  [ "$1" = pipelined ] && tail=(-- "$PIPELINE")
  local target=$url
  [ "$1" = large ] && target=${url%/plaintext}/large
  # shellcheck disable=SC2046
  taskset -c "$WRK_CPUS" wrk $(wrk_args "$1") -d"$2" "${extra[@]}" "$target" "${tail[@]}" 2>&1
}

start_server() { # "server args[|binary]" -> pid on stdout; empty when the server refuses the arguments
  local pid args=${1%%|*} bin=$server
  [[ $1 == *"|"* ]] && bin=${1#*|}
  # shellcheck disable=SC2086
  taskset -c "$SERVER_CPUS" "$bin" $args --port "$PORT" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "$url" >/dev/null 2>&1 && { echo "$pid"; return; }
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
}

run_one() { # variant-args scenario -> "req/s cpu-us-per-request", "n/a" when the variant is not available
  local pid out before after rps requests
  pid=$(start_server "$1")
  [ -z "$pid" ] && { echo "n/a"; return; }
  track_pid "$pid"
  run_wrk "$2" "$WARMUP" >/dev/null
  before=$(cpu_ticks "$pid")
  out=$(run_wrk "$2" "$DURATION")
  after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  grep -E 'Socket errors|Non-2xx' <<<"$out" | sed "s/^/  $2: /" >&2 || true
  sleep 1   # let TIME_WAIT and the CPU settle
  awk -v r="${rps:-0}" -v n="${requests:-0}" -v t=$((after - before)) -v hz="$tck" \
    'BEGIN {printf "%s %.2f\n", r, (n > 0) ? t * 1e6 / hz / n : 0}'
}

declare -A rps cpu available
for v in "${variants[@]}"; do available["${v%%|*}"]=1; done
log "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for scenario in $SCENARIOS; do
    # Variants alternate within each round so drift in the machine's load hits them all alike.
    for variant in "${variants[@]}"; do
      vname=${variant%%|*}; vargs=${variant#*|}
      [ "${available[$vname]}" = 1 ] || continue
      result=$(run_one "$vargs" "$scenario")
      if [ "$result" = n/a ]; then
        available[$vname]=0
        log "$vname: PlaintextServer does not accept '$vargs'; skipped"
        continue
      fi
      rps["$scenario|$vname"]="${rps["$scenario|$vname"]:-} ${result% *}"
      cpu["$scenario|$vname"]="${cpu["$scenario|$vname"]:-} ${result#* }"
      log "round $round $scenario $vname: ${result% *} req/s, ${result#* } us CPU/request"
    done
  done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "| scenario | variant | runs (req/s) | median req/s | ratio vs ${variants[0]%%|*} | CPU µs/request (median) | CPU ratio |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
  base=${variants[0]%%|*}
  for scenario in $SCENARIOS; do
    # shellcheck disable=SC2086
    brps=$(median ${rps["$scenario|$base"]:-}); bcpu=$(median ${cpu["$scenario|$base"]:-})
    for variant in "${variants[@]}"; do
      vname=${variant%%|*}
      if [ "${available[$vname]}" != 1 ]; then
        vargs=${variant#*|}
        echo "| $scenario | $vname | not available: PlaintextServer refuses \`${vargs%%|*}\` | | | | |"
        continue
      fi
      # shellcheck disable=SC2086
      mrps=$(median ${rps["$scenario|$vname"]}); mcpu=$(median ${cpu["$scenario|$vname"]})
      awk -v s="$scenario" -v v="$vname" -v runs="${rps["$scenario|$vname"]}" -v r="$mrps" -v br="$brps" -v c="$mcpu" -v bc="$bcpu" \
        'BEGIN {printf "| %s | %s |%s | %.0f | %.2f | %.2f | %.2f |\n", s, v, runs, r, (br > 0) ? r / br : 0, c, (bc > 0) ? c / bc : 0}'
    done
  done
} | tee "$OUT"
