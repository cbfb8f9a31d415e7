#!/usr/bin/env bash
# The user-space TCP stack (serve --usertcp, a TUN device) against the kernel's TCP (serve --tcp, Kestrel's sockets
# transport), same HTTP app, same namespace set-up, one run (issue #23):
#
#   client namespace 10.79.0.1 (+ .11-.14) --veth-- server namespace 10.79.0.2 --TUN ut0 (kernel side 10.77.0.2)-- stack 10.77.0.1
#
# The kernel path serves on 10.79.0.2:8080; the user-space path on 10.77.0.1:8080, reached through the server
# namespace's forwarding (the TUN device is a routed link, so each packet crosses the server namespace's IP layer once
# more than on the kernel path). wrk, curl and the idle-connection opener run in the client namespace.
#
# Measured per path: keep-alive requests/s (wrk -c 64) and the server's CPU beside it, one-stream throughput (curl of
# /bytes/N, the two paths' SHA-256 compared: zero data errors), connections/s (wrk with Connection: close) and its
# CPU, and memory per idle connection (IDLE connections opened and held; the serve process's RSS delta, the kernel's
# TCP slab delta for the kernel path) with the server's CPU while they sit idle.
#
# Usage (root): benchmarks/usertcp/run.sh            # writes benchmarks/results/usertcp.md
#   DURATION=10 IDLE=50000 BIG=1073741824 OUT=... MODES="kernel usertcp" benchmarks/usertcp/run.sh
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[[ $(id -u) == 0 ]] || { echo "run.sh needs root (network namespaces, a TUN device)" >&2; exit 1; }
for tool in ip wrk curl python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done

DURATION=${DURATION:-10}
IDLE=${IDLE:-50000}
BIG=${BIG:-1073741824}
OUT=${OUT:-$ROOT/benchmarks/results/usertcp.md}
NS_C=kkut-bench$$-c
NS_S=kkut-bench$$-s
CLIENT_SOURCES=(10.79.0.1 10.79.0.11 10.79.0.12 10.79.0.13 10.79.0.14)
HZ=$(getconf CLK_TCK)

bench_lock
bench_workdir kkut-bench
CLI_DIR=$(bench_build_dir kkut-cli)
log "building the CLI into $CLI_DIR"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -o "$CLI_DIR" -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }

netns_cleanup() {
  ip netns del "$NS_C" 2>/dev/null || true
  ip netns del "$NS_S" 2>/dev/null || true
  bench_cleanup
}
trap netns_cleanup EXIT

log "namespaces $NS_C and $NS_S"
ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add kkutc netns "$NS_C" type veth peer name kkuts netns "$NS_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" addr add 10.79.0.1/24 dev kkutc
for a in "${CLIENT_SOURCES[@]:1}"; do ip -n "$NS_C" addr add "$a/24" dev kkutc; done
ip -n "$NS_S" addr add 10.79.0.2/24 dev kkuts
ip -n "$NS_C" link set kkutc up
ip -n "$NS_S" link set kkuts up
ip -n "$NS_C" route add 10.77.0.0/24 via 10.79.0.2
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1

# The kernel path's serve and each idle opener hold one descriptor per connection: raise the limit as far as allowed
# (a container without CAP_SYS_RESOURCE keeps its hard limit; the report says what it was).
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)

SERVE_PID=
start_serve() { # MODE: kernel | usertcp
  local args=(--kcp 127.0.0.1:0 --app http)
  if [[ $1 == kernel ]]; then args+=(--tcp 10.79.0.2:8080); else args+=(--usertcp tun=ut0,address=10.77.0.1/24,port=8080); fi
  ip netns exec "$NS_S" dotnet "$CLI_DIR/KcpKestrel.Cli.dll" serve "${args[@]}" >"$WORK/serve-$1.out" 2>"$WORK/serve-$1.err" &
  SERVE_PID=$!
  track_pid "$SERVE_PID"
  for _ in $(seq 600); do
    grep -q '^listening' "$WORK/serve-$1.out" 2>/dev/null && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve ($1) did not start:" >&2
  cat "$WORK/serve-$1.err" >&2
  exit 1
}

stop_serve() { # MODE: leaves the stop JSON in $WORK/stop-MODE.json
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  grep '^{"event":"stopped"' "$WORK/serve-$1.out" >"$WORK/stop-$1.json" || true
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
tcp_slab_kib() { awk '$1 == "TCP" || $1 == "request_sock_TCP" || $1 == "sock_inode_cache" {s += $3 * $4} END {printf "%d", s / 1024}' /proc/slabinfo 2>/dev/null || echo 0; }
wrk_rate() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_errors() { awk '/Socket errors|Non-2xx/ {print}' "$1" | tr '\n' ' '; }

declare -A R
measure() { # MODE HOST
  local mode=$1 host=$2 url="http://$2:8080" c0 c1 t0 t1
  start_serve "$mode"
  log "$mode: warm-up"
  ip netns exec "$NS_C" wrk -t2 -c16 -d2s "$url/plaintext" >/dev/null

  log "$mode: keep-alive requests/s (wrk -t2 -c64 -d${DURATION}s)"
  c0=$(cpu_ticks "$SERVE_PID")
  ip netns exec "$NS_C" wrk -t2 -c64 -d"${DURATION}s" "$url/plaintext" >"$WORK/rps-$mode.txt"
  c1=$(cpu_ticks "$SERVE_PID")
  R[$mode.rps]=$(wrk_rate "$WORK/rps-$mode.txt")
  R[$mode.rps_cpu]=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v d="$DURATION" 'BEGIN {printf "%.0f", t / hz / d * 100}')
  R[$mode.rps_err]=$(wrk_errors "$WORK/rps-$mode.txt")

  log "$mode: one stream, /bytes/$BIG"
  c0=$(cpu_ticks "$SERVE_PID"); t0=$(date +%s.%N)
  ip netns exec "$NS_C" curl -sS --max-time 600 "$url/bytes/$BIG" | sha256sum | cut -d' ' -f1 >"$WORK/sha-$mode.txt"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$SERVE_PID")
  R[$mode.mbps]=$(awk -v b="$BIG" -v a="$t0" -v z="$t1" 'BEGIN {printf "%.0f", b / (z - a) / 1e6}')
  R[$mode.mbps_cpu]=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v a="$t0" -v z="$t1" 'BEGIN {printf "%.0f", t / hz / (z - a) * 100}')
  R[$mode.sha]=$(cat "$WORK/sha-$mode.txt")

  log "$mode: connections/s (wrk -t2 -c64 -d${DURATION}s, Connection: close)"
  c0=$(cpu_ticks "$SERVE_PID")
  ip netns exec "$NS_C" wrk -t2 -c64 -d"${DURATION}s" -H 'Connection: close' "$url/plaintext" >"$WORK/cps-$mode.txt"
  c1=$(cpu_ticks "$SERVE_PID")
  R[$mode.cps]=$(wrk_rate "$WORK/cps-$mode.txt")
  R[$mode.cps_cpu]=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v d="$DURATION" 'BEGIN {printf "%.0f", t / hz / d * 100}')
  R[$mode.cps_err]=$(wrk_errors "$WORK/cps-$mode.txt")

  # One descriptor per connection in each opener (and, on the kernel path, in serve): RLIMIT_NOFILE caps both. The
  # openers split the connections; the kernel path holds at most what serve's own limit allows.
  local want=$IDLE
  if [[ $mode == kernel ]] && ((want > NOFILE - 1000)); then want=$((NOFILE - 1000)); fi
  R[$mode.idle_asked]=$want
  log "$mode: $want idle connections"
  sleep 3 # TIME_WAIT and closing connections from the last step settle a little
  local rss0 slab0 rss1 slab1 fifo="$WORK/idle-$mode.in" per=$((NOFILE - 500)) openers=() left i=0
  rss0=$(rss_kib "$SERVE_PID"); slab0=$(tcp_slab_kib)
  mkfifo "$fifo"
  left=$want
  while ((left > 0)); do
    local n=$((left < per ? left : per))
    # Each opener its own source address: one address offers about 64,000 ports to one destination.
    ip netns exec "$NS_C" python3 "$ROOT/benchmarks/usertcp/idle.py" "$host" 8080 "$n" "${CLIENT_SOURCES[$((i % ${#CLIENT_SOURCES[@]}))]}" <"$fifo" >"$WORK/idle-$mode-$i.out" 2>&1 &
    openers+=($!)
    track_pid $!
    left=$((left - n)); i=$((i + 1))
  done
  # Opened after the openers start (so none inherits it): they hold their connections until it closes.
  exec {hold}>"$fifo"
  for _ in $(seq 3000); do
    local done_count
    done_count=$(cat "$WORK"/idle-"$mode"-*.out 2>/dev/null | grep -c '^established' || true)
    ((done_count >= ${#openers[@]})) && break
    sleep 0.1
  done
  sleep 5
  rss1=$(rss_kib "$SERVE_PID"); slab1=$(tcp_slab_kib)
  c0=$(cpu_ticks "$SERVE_PID"); sleep 10; c1=$(cpu_ticks "$SERVE_PID")
  R[$mode.idle]=$(cat "$WORK"/idle-"$mode"-*.out | awk '/^established/ {s += $2} END {print s + 0}')
  R[$mode.idle_failed]=$(cat "$WORK"/idle-"$mode"-*.out | awk '/^established/ {s += $4} END {print s + 0}')
  R[$mode.idle_rss]=$(awk -v a="$rss0" -v b="$rss1" -v n="${R[$mode.idle]:-0}" 'BEGIN {if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "n/a"}')
  R[$mode.idle_slab]=$(awk -v a="$slab0" -v b="$slab1" -v n="${R[$mode.idle]:-0}" 'BEGIN {if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "n/a"}')
  R[$mode.idle_cpu]=$(awk -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.1f", t / hz / 10 * 100}')
  grep -hv '^established' "$WORK"/idle-"$mode"-*.out | head -5 >&2 || true
  exec {hold}>&-
  for pid in "${openers[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "$fifo"
  stop_serve "$mode"
  log "$mode: ${R[$mode.rps]} req/s, ${R[$mode.mbps]} MB/s, ${R[$mode.cps]} conn/s, ${R[$mode.idle]:-0} idle at ${R[$mode.idle_rss]} B RSS each"
}

for mode in ${MODES:-kernel usertcp}; do
  if [[ $mode == kernel ]]; then measure kernel 10.79.0.2; else measure usertcp 10.77.0.1; fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
same_bytes=no
[[ -n "${R[kernel.sha]:-}" && "${R[kernel.sha]:-}" == "${R[usertcp.sha]:-}" ]] && same_bytes=yes

{
  echo "# User-space TCP (TUN) vs the kernel's TCP, same Kestrel HTTP app (issue #23)"
  echo
  echo "\`benchmarks/usertcp/run.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); DURATION=${DURATION}s, IDLE=$IDLE, BIG=$BIG."
  echo "Client namespace --veth--> server namespace; kernel path: \`serve --tcp 10.79.0.2:8080\`; user-space path:"
  echo "\`serve --usertcp tun=ut0,address=10.77.0.1/24,port=8080\` reached through the server namespace's forwarding."
  echo "CPU is the serve process's user+sys time over the step, in % of one core. RLIMIT_NOFILE here: $NOFILE (the kernel"
  echo "path needs a descriptor per connection in serve, so it holds at most that many; the user-space path needs none)."
  echo "RSS per idle connection is the whole serve process's growth: Kestrel's own per-connection objects included."
  echo
  echo "| Figure | Kernel TCP (sockets transport) | User-space TCP (TUN) | Ratio |"
  echo "|---|---|---|---|"
  echo "| Keep-alive requests/s (wrk -c 64) | ${R[kernel.rps]:-} (CPU ${R[kernel.rps_cpu]:-}%) | ${R[usertcp.rps]:-} (CPU ${R[usertcp.rps_cpu]:-}%) | $(ratio "${R[usertcp.rps]:-}" "${R[kernel.rps]:-}") |"
  echo "| One stream, /bytes/$BIG (MB/s) | ${R[kernel.mbps]:-} (CPU ${R[kernel.mbps_cpu]:-}%) | ${R[usertcp.mbps]:-} (CPU ${R[usertcp.mbps_cpu]:-}%) | $(ratio "${R[usertcp.mbps]:-}" "${R[kernel.mbps]:-}") |"
  echo "| Connections/s (wrk -c 64, Connection: close) | ${R[kernel.cps]:-} (CPU ${R[kernel.cps_cpu]:-}%) | ${R[usertcp.cps]:-} (CPU ${R[usertcp.cps_cpu]:-}%) | $(ratio "${R[usertcp.cps]:-}" "${R[kernel.cps]:-}") |"
  echo "| Idle connections held of asked (failed) | ${R[kernel.idle]:-} of ${R[kernel.idle_asked]:-} (${R[kernel.idle_failed]:-}) | ${R[usertcp.idle]:-} of ${R[usertcp.idle_asked]:-} (${R[usertcp.idle_failed]:-}) | |"
  echo "| serve RSS per idle connection (bytes) | ${R[kernel.idle_rss]:-} | ${R[usertcp.idle_rss]:-} | |"
  echo "| Kernel TCP slab per idle connection (bytes, host-wide) | ${R[kernel.idle_slab]:-} | ${R[usertcp.idle_slab]:-} | |"
  echo "| serve CPU while they idle (10 s) | ${R[kernel.idle_cpu]:-}% | ${R[usertcp.idle_cpu]:-}% | |"
  echo
  echo "Download SHA-256 identical on both paths: $same_bytes (\`${R[kernel.sha]:-}\` / \`${R[usertcp.sha]:-}\`)."
  echo "wrk errors: kernel rps '${R[kernel.rps_err]:-}' cps '${R[kernel.cps_err]:-}'; usertcp rps '${R[usertcp.rps_err]:-}' cps '${R[usertcp.cps_err]:-}'."
  echo
  echo "Stop JSON (kernel): \`$(cat "$WORK/stop-kernel.json" 2>/dev/null | head -c 2000)\`"
  echo
  echo "Stop JSON (usertcp): \`$(cat "$WORK/stop-usertcp.json" 2>/dev/null | head -c 4000)\`"
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
