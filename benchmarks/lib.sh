# shellcheck shell=bash
# Helpers the benchmark scripts share; source it first:  . "$(dirname "$0")/../lib.sh"
#
# Sets ROOT (the repository root) and an EXIT trap that ends the processes registered with track_pid,
# closes the descriptors registered with track_fd and removes the directory made by bench_workdir.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PIDS=()
BENCH_FDS=()
BENCH_WORK=

# log MESSAGE...: a timestamped line on stderr.
log() { echo "[$(date +%T)] $*" >&2; }

# bench_workdir PREFIX: makes a scratch directory /tmp/PREFIX.XXXXXX, sets WORK to it; removed on exit.
bench_workdir() {
  BENCH_WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  WORK=$BENCH_WORK
}

# bench_lock: waits for, then holds until exit, the machine-wide benchmark lock, so two benchmark scripts (two
# checkouts, two people) never measure at the same time on a 2-core machine. BENCH_NO_LOCK=1 skips it.
bench_lock() {
  [[ "${BENCH_NO_LOCK:-}" == 1 ]] && return 0
  exec {BENCH_LOCK_FD}>/tmp/kcpkestrel-bench.lock
  if ! flock -n "$BENCH_LOCK_FD"; then
    log "waiting for the benchmark lock (/tmp/kcpkestrel-bench.lock)"
    flock "$BENCH_LOCK_FD"
  fi
}

# bench_build_dir NAME: a build output directory under /tmp that is this checkout's own (two checkouts never share one).
bench_build_dir() { echo "/tmp/$1-$(echo "$ROOT" | md5sum | cut -c1-8)"; }

# track_pid PID...: processes to end on exit. track_fd FD...: descriptors (held-open stdins) to close on exit.
track_pid() { BENCH_PIDS+=("$@"); }
track_fd() { BENCH_FDS+=("$@"); }

bench_cleanup() {
  local fd pid
  for fd in "${BENCH_FDS[@]:-}"; do
    if [[ -n "$fd" ]]; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
  done
  for pid in "${BENCH_PIDS[@]:-}"; do
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  if [[ -n "$BENCH_WORK" ]]; then rm -rf "$BENCH_WORK"; fi
}
trap bench_cleanup EXIT

# median NUMBER...: the median of the arguments (the mean of the two middle values for an even count);
# "nan" when there are none.
median() {
  printf '%s\n' "$@" | sort -g | awk 'NF {a[++n] = $1} END {
    if (n == 0) print "nan"; else if (n % 2) print a[(n + 1) / 2]; else print (a[n / 2] + a[n / 2 + 1]) / 2 }'
}

# median_row < LINES: the whole line whose first field is the median of the first fields (the lower of the
# two middle lines for an even count), so the other fields come from that same, measured, run.
median_row() { sort -g | awk 'NF {a[++n] = $0} END {if (n) print a[int((n + 1) / 2)]}'; }

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# build_go_peer OUTPUT: builds the kcp-go reference peer (tests/GoPeer) in GOPATH mode on Debian's kcp-go
# (golang-github-xtaci-kcp-dev, imported without /v5), as the interop tests do; with its gRPC app and workload
# (-tags grpc) when Debian's golang-google-grpc-dev is installed (go_peer_has_grpc).
build_go_peer() {
  command -v go >/dev/null || { echo "go is not on PATH: install Go (Debian: apt-get install golang-go golang-github-xtaci-kcp-dev)" >&2; exit 1; }
  local tags=()
  if go_peer_has_grpc; then tags=(-tags grpc); fi
  (cd "$ROOT/tests/GoPeer" && GO111MODULE=off GOPATH=/usr/share/gocode go build "${tags[@]}" -o "$1" .)
}

# go_peer_has_grpc: whether build_go_peer includes the gRPC echo (-app grpc, -workload grpc).
go_peer_has_grpc() { [[ -d /usr/share/gocode/src/google.golang.org/grpc ]]; }

# build_go_relay OUTPUT: builds the independent UDP relay (benchmarks/compare/relay, Go standard library only), so a
# lossy-link figure can be checked through a relay that kcpkestrel was not tuned against.
build_go_relay() {
  command -v go >/dev/null || { echo "go is not on PATH: install Go (Debian: apt-get install golang-go)" >&2; exit 1; }
  (cd "$ROOT/benchmarks/compare/relay" && GO111MODULE=off go build -o "$1" relay.go)
}

# start_with_stdin NAME CMD...: runs CMD in the background with a stdin this script holds open (the kcp-go peer and
# both relays stop when it closes), waits for its first line of output; sets STARTED_PID, STARTED_FD and
# STARTED_LINE. CMD must be a program, not a shell function, so STARTED_PID is the process itself (`ip netns exec`
# execs its command, so it may lead). Needs WORK (bench_workdir).
start_with_stdin() {
  local name=$1; shift
  local fifo="$WORK/$name.in" out="$WORK/$name.out" fd
  mkfifo "$fifo"
  "$@" <"$fifo" >"$out" 2>"$WORK/$name.err" &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
  exec {fd}>"$fifo"
  track_fd "$fd"
  STARTED_FD=$fd
  for _ in $(seq 1 300); do
    [[ -s "$out" ]] && break
    kill -0 "$STARTED_PID" 2>/dev/null || break
    sleep 0.1
  done
  STARTED_LINE=$(head -n1 "$out")
  [[ -n "$STARTED_LINE" ]] || { echo "$name did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
}

# stop_started PID FD: closes the stdin start_with_stdin holds, ends the process and waits for it.
stop_started() {
  eval "exec $2>&-" || true
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
