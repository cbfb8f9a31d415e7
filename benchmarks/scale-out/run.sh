#!/usr/bin/env bash
# Scale-out under nginx's UDP proxy (issue #22, the long version of tests/KcpKestrel.Cli.Tests/ScaleOut): kcpkestrel
# serve instances on loopback behind deploy/nginx/kcpkestrel-udp.conf (hash $remote_addr$remote_port consistent),
# SESSIONS clients from `bench --workload sessions --redial` ping-ponging at RATE for DURATION s per phase, and one
# event per phase at EVENT_AT s, each phase on fresh instances and a fresh nginx:
#   baseline  nothing happens (the RTT p99 to compare with)
#   drain     SIGTERM to one instance (serve --drain-delay: /healthz turns 503, then its sessions get the close signal)
#   crash     SIGKILL to one instance (its sessions go silent; the bench's --round-trip-timeout ends them)
#   add       a fourth instance, nginx reloaded with it
#   remove    nginx reloaded without one instance (which keeps running, unreachable)
# Per phase: sessions on the affected instance at the event (its /healthz), sessions that ended and were redialed,
# failed redials, redial time p50/max (from the ending found to the first good echo on the new session), the RTT p99
# of the sessions that never ended against the baseline's, and for add/remove the share of clients that moved.
# Writes benchmarks/results/scale-out.md. Needs nginx and libnginx-mod-stream, curl, jq.
#
#   benchmarks/scale-out/run.sh
#   SESSIONS=300 DURATION=15 PHASES="drain" benchmarks/scale-out/run.sh
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
SESSIONS=${SESSIONS:-1000}
RATE=${RATE:-5}
DURATION=${DURATION:-25}
EVENT_AT=${EVENT_AT:-10}
DRAIN_DELAY=${DRAIN_DELAY:-2}
RTT_TIMEOUT=${RTT_TIMEOUT:-2}
# aes-256-gcm: ours with address validation and migration; aes: kcp-go's wire (no migration).
RUNS=${RUNS:-"aes-256-gcm:baseline aes-256-gcm:drain aes-256-gcm:crash aes-256-gcm:add aes-256-gcm:remove aes:add aes:remove"}
PHASES=${PHASES:-}
OUT=${OUT:-$ROOT/benchmarks/results/scale-out.md}
RECIPE=$ROOT/deploy/nginx/kcpkestrel-udp.conf
NGINX=${NGINX:-/usr/sbin/nginx}

for tool in curl jq; do command -v $tool >/dev/null || { echo "$tool is not on PATH" >&2; exit 1; }; done
[[ -x "$NGINX" && -e /usr/lib/nginx/modules/ngx_stream_module.so ]] || { echo "nginx with its stream module is needed: apt-get install nginx libnginx-mod-stream" >&2; exit 1; }
if [[ -n "$PHASES" ]]; then RUNS=$(for p in $PHASES; do echo "aes-256-gcm:$p"; done); fi

bench_lock
: "${BENCH_LOCK_FD:=199}"   # the descriptor children must not inherit (a number nothing uses under BENCH_NO_LOCK=1)
bench_workdir scale-out
log "building kcpkestrel (Release)"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
CLI=(dotnet "$ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll")

# render_recipe LISTEN UPSTREAM...: the recipe with its listen address and its upstream's server lines replaced (each
# new line keeps the parameters of the recipe's first one), as the tests' NginxUdpBalancer does.
render_recipe() {
  local listen=$1; shift
  awk -v listen="$listen" -v ups="$*" '
    /^[ \t]*server[ \t]+[^ \t{;]+:[0-9]+/ {
      if (!done) {
        match($0, /^[ \t]*/); indent = substr($0, 1, RLENGTH)
        params = $0; sub(/^[ \t]*server[ \t]+[^ \t;]+/, "", params); sub(/;.*$/, "", params)
        n = split(ups, u, " "); for (i = 1; i <= n; i++) print indent "server " u[i] params ";"
        done = 1
      }
      next
    }
    /^[ \t]*listen[ \t]+[^ \t]+[ \t]+udp/ { sub(/listen[ \t]+[^ \t]+/, "listen " listen) }
    { print }' "$RECIPE"
}

# free_udp_port: a loopback UDP port free right now (nginx cannot take port 0).
free_udp_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_instance NAME CRYPT: serve in the background; sets INST_PID[NAME], INST_KCP[NAME], INST_HEALTH[NAME].
declare -A INST_PID INST_KCP INST_HEALTH
start_instance() {
  local name=$1 crypt=$2 out="$WORK/$1.out"
  "${CLI[@]}" serve --kcp 127.0.0.1:0 --health 127.0.0.1:0 --drain-delay "$DRAIN_DELAY" --instance-id "$name" \
    --crypt "$crypt" --key scale-out >"$out" 2>"$WORK/$name.err" {BENCH_LOCK_FD}>&- &
  INST_PID[$name]=$!
  track_pid "${INST_PID[$name]}"
  for _ in $(seq 1 300); do [[ -s "$out" ]] && break; sleep 0.1; done
  local ready; ready=$(head -n1 "$out")
  [[ "$ready" == listening* ]] || { echo "$name did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
  INST_KCP[$name]=$(tr ' ' '\n' <<<"$ready" | sed -n 's/^kcp=//p')
  INST_HEALTH[$name]=$(tr ' ' '\n' <<<"$ready" | sed -n 's/^health=//p')
}

# health NAME: the instance's /healthz JSON ({} once it is gone).
health() { curl -s --max-time 2 "http://${INST_HEALTH[$1]}/healthz" || echo '{}'; }
accepted() { health "$1" | jq -r '.sessionsAccepted // 0'; }
open_sessions() { health "$1" | jq -r '.sessions // 0'; }

# start_nginx UPSTREAM...: nginx from the recipe on a free port, its own prefix; sets LB and NGINX_PID.
start_nginx() {
  local prefix=$WORK/nginx
  mkdir -p "$prefix"
  LB=127.0.0.1:$(free_udp_port)
  render_recipe "$LB" "$@" >"$prefix/nginx.conf"
  "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
    -g "daemon off; pid $prefix/nginx.pid; error_log $prefix/error.log notice;" {BENCH_LOCK_FD}>&- &
  NGINX_PID=$!
  track_pid "$NGINX_PID"
  for _ in $(seq 1 100); do grep -q "start worker process" "$prefix/error.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "nginx did not start: $(cat "$prefix/error.log")" >&2; exit 1
}

# reload_nginx UPSTREAM...: new upstream list, SIGHUP; returns once the old workers have exited (worker_shutdown_timeout).
reload_nginx() {
  local prefix=$WORK/nginx before old pid
  render_recipe "$LB" "$@" >"$prefix/nginx.conf"
  before=$(wc -l <"$prefix/error.log")
  old=$(sed -n 's/.*start worker process \([0-9]*\).*/\1/p' "$prefix/error.log")
  kill -HUP "$NGINX_PID"
  for pid in $old; do
    for _ in $(seq 1 200); do tail -n +"$before" "$prefix/error.log" | grep -q "worker process $pid exited" && break; sleep 0.1; done
  done
}

stop_all() {
  local name
  kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true
  for name in "${!INST_PID[@]}"; do kill "${INST_PID[$name]}" 2>/dev/null || true; wait "${INST_PID[$name]}" 2>/dev/null || true; done
  INST_PID=(); INST_KCP=(); INST_HEALTH=()
  rm -rf "$WORK/nginx"
}

ROWS=()
BASELINE_P99=
run_phase() {
  local crypt=$1 phase=$2 a b c
  log "$crypt $phase: $SESSIONS sessions at $RATE/s for $DURATION s, event at $EVENT_AT s"
  start_instance a "$crypt"; start_instance b "$crypt"; start_instance c "$crypt"
  start_nginx "${INST_KCP[a]}" "${INST_KCP[b]}" "${INST_KCP[c]}"
  "${CLI[@]}" bench --kcp "$LB" --workload sessions --sessions "$SESSIONS" --rate "$RATE" --duration "$DURATION" \
    --redial --round-trip-timeout "$RTT_TIMEOUT" --crypt "$crypt" --key scale-out --timeout $((DURATION * 4 + 60)) \
    >"$WORK/bench.out" 2>"$WORK/bench.err" {BENCH_LOCK_FD}>&- &
  local bench=$!
  track_pid "$bench"
  sleep "$EVENT_AT"

  local affected=- moved=- health_503=- before_a before_b before_c after
  before_a=$(accepted a); before_b=$(accepted b); before_c=$(accepted c)
  case $phase in
    drain)
      affected=$(open_sessions a)
      local t0; t0=$(date +%s.%N)
      kill -TERM "${INST_PID[a]}"
      for _ in $(seq 1 100); do [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://${INST_HEALTH[a]}/healthz") == 503 ]] && break; sleep 0.02; done
      health_503=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
      wait "${INST_PID[a]}" || true ;;
    crash)
      affected=$(open_sessions a)
      kill -KILL "${INST_PID[a]}"; wait "${INST_PID[a]}" 2>/dev/null || true ;;
    add)
      start_instance d "$crypt"
      reload_nginx "${INST_KCP[a]}" "${INST_KCP[b]}" "${INST_KCP[c]}" "${INST_KCP[d]}" ;;
    remove)
      affected=$(open_sessions c)
      reload_nginx "${INST_KCP[a]}" "${INST_KCP[b]}" ;;
  esac
  if ! wait "$bench"; then log "bench exited non-zero: $(tail -n 3 "$WORK/bench.err")"; fi
  local json; json=$(tail -n 1 "$WORK/bench.out")
  jq -e . >/dev/null <<<"$json" || { echo "no bench JSON: $(cat "$WORK/bench.err")" >&2; exit 1; }
  # The share of clients that land on another instance: on add, the new instance's share of the sessions opened after
  # the reload; on remove, the sessions that ended (the removed instance's, and in kcp-go's modes all of them).
  case $phase in
    add)
      local d_acc total=0 x
      d_acc=$(accepted d)
      for x in a b c; do after=$(accepted "$x"); eval "total=\$((total + after - before_$x))"; done
      moved=$(awk -v d="$d_acc" -v t="$((total + d_acc))" 'BEGIN { printf "%.2f new clients", (t ? d / t : 0) }') ;;
    remove)
      moved=$(jq -r --argjson n "$SESSIONS" '"\(.ended / $n * 100 | floor / 100) of sessions"' <<<"$json") ;;
  esac
  local p99; p99=$(jq -r '.kept_rtt_p99_us' <<<"$json")
  [[ "$phase" == baseline ]] && BASELINE_P99=$(jq -r '.rtt_p99_us' <<<"$json")
  ROWS+=("| $crypt | $phase | $affected | $(jq -r '"\(.ended) | \(.redialed) | \(.failed) | \(.redial_p50_ms) / \(.redial_max_ms)"' <<<"$json") | $health_503 | $moved | $p99 | $(jq -r '.rtt_p99_us' <<<"$json") |")
  log "$crypt $phase: $json"
  stop_all
}

for run in $RUNS; do run_phase "${run%%:*}" "${run#*:}"; done

{
  echo "# Scale-out behind nginx's UDP proxy"
  echo
  echo "$(date -u +%F), $(nproc) cores, loopback; nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), recipe deploy/nginx/kcpkestrel-udp.conf."
  echo "\`benchmarks/scale-out/run.sh\` with SESSIONS=$SESSIONS RATE=$RATE DURATION=$DURATION EVENT_AT=$EVENT_AT DRAIN_DELAY=$DRAIN_DELAY RTT_TIMEOUT=$RTT_TIMEOUT:"
  echo "three \`serve\` instances, $SESSIONS \`bench --workload sessions --redial --round-trip-timeout $RTT_TIMEOUT\` clients, one event per phase at ${EVENT_AT} s, fresh instances each phase."
  echo
  echo "| crypt | phase | sessions on the instance | ended | redialed | failed | redial ms p50 / max | /healthz 503 after ms | moved | kept RTT p99 µs | all RTT p99 µs |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Baseline RTT p99 (no event): ${BASELINE_P99:-not run} µs. \"ended\" counts every ending, a session that ended twice counts twice."
  echo "Redial time runs from the ending found (end-of-stream, or no echo within --round-trip-timeout) to the first good echo on the new session;"
  echo "after a crash add the detection time, --round-trip-timeout ($RTT_TIMEOUT s here, 5 s by default)."
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
