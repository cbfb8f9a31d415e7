#!/usr/bin/env bash
# Pacing on and off, side by side: kcpkestrel --cc Kcp (kcp-go's window, sent at once), kcpkestrel --cc Bbr
# (rate-based, paced) and kcp-go 5.6.1 (tests/GoPeer), same KCP settings (fast3, windows 1024), fresh client
# processes, medians of REPS. Prints a markdown table: MB/s, retransmitted segments (client side: the sender
# in bulk) and CPU seconds (client + server) per run. Holds the benchmark lock for the whole sitting.
#
#   benchmarks/compare/pacing.sh loopback     # 128 MiB echo and bulk, no FEC, no cipher
#   benchmarks/compare/pacing.sh relay        # 16 MiB bulk, FEC 10/3 + aes, our relay and the Go relay, 5 ms, 1% / 5% loss
#   benchmarks/compare/pacing.sh bottleneck   # 16 MiB bulk through the Go relay at 50 Mbit/s, 5 ms, drop-tail queue
#
# Needs: dotnet, go (Debian's kcp-go in /usr/share/gocode), jq. GORELAY=path uses a prebuilt Go relay.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
SITTING=${1:-loopback}
REPS=${REPS:-3}
bench_workdir kcppacing

log "building kcpkestrel (Release), the kcp-go peer and the Go relay"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
build_go_peer "$WORK/kcppeer"
if [[ -z "${GORELAY:-}" ]]; then
  GORELAY="$WORK/gorelay"
  (cd "$ROOT/benchmarks/compare/relay" && GO111MODULE=off go build -o "$GORELAY" relay.go)
fi
OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"
PEER="$WORK/kcppeer"
bench_lock

PLAIN_OURS=(--mode fast3 --crypt none --datashard 0 --parityshard 0)
PLAIN_GO=(-crypt none -datashard 0 -parityshard 0)
SECURE_OURS=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3)
SECURE_GO=(-crypt aes -key bench -datashard 10 -parityshard 3)

# start_with_stdin and stop_started come from lib.sh.

# start_server IMPL APP FLAGS...: IMPL is kcp, bbr (ours) or go; sets SERVER_PID, SERVER_FD, SERVER_ADDR.
start_server() {
  local impl=$1 app=$2; shift 2
  if [[ $impl == go ]]; then
    start_with_stdin "go-$RANDOM" "$PEER" -mode server -listen 127.0.0.1:0 -app "$app" "$@"
    SERVER_ADDR=${STARTED_LINE#listening }
  else
    start_with_stdin "ours-$RANDOM" $OURS serve --kcp 127.0.0.1:0 --app "$app" --cc "${impl^}" "$@"
    SERVER_ADDR=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
  fi
  SERVER_PID=$STARTED_PID; SERVER_FD=$STARTED_FD
}

# start_relay KIND TARGET LOSS [EXTRA...]: KIND ours or go; sets RELAY_PID, RELAY_FD, RELAY_ADDR.
start_relay() {
  local kind=$1 target=$2 loss=$3; shift 3
  if [[ $kind == go ]]; then
    start_with_stdin "gorelay-$RANDOM" "$GORELAY" -listen 127.0.0.1:0 -target "$target" -loss "$loss" -delay 5ms -seed 7 "$@"
  else
    start_with_stdin "relay-$RANDOM" $OURS relay --listen 127.0.0.1:0 --target "$target" --loss "$loss" --delay 5 --seed 7
  fi
  RELAY_PID=$STARTED_PID; RELAY_FD=$STARTED_FD
  RELAY_ADDR=$(awk '{print $2}' <<<"$STARTED_LINE")
}

# client IMPL ADDR WORKLOAD BYTES FLAGS...: one fresh client; prints "mb_per_s retransmits cpu_seconds" (client + server).
client() {
  local impl=$1 addr=$2 workload=$3 bytes=$4; shift 4
  local c0 c1 line tfile="$WORK/time.$RANDOM"
  c0=$(cpu_ticks "$SERVER_PID")
  if [[ $impl == go ]]; then
    line=$(/usr/bin/time -f "%U %S" -o "$tfile" "$PEER" -mode client -target "$addr" -workload "$workload" -bytes $(( ${bytes%M} << 20 )) "$@" 2>>"$WORK/clients.err" | tail -n1 || true)
  else
    line=$(/usr/bin/time -f "%U %S" -o "$tfile" $OURS bench --kcp "$addr" --workload "$workload" --bytes "$bytes" --cc "${impl^}" "$@" 2>>"$WORK/clients.err" | tail -n1 || true)
  fi
  c1=$(cpu_ticks "$SERVER_PID")
  if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" != "true" ]]; then echo "FAILED: $impl $workload -> $line" >&2; echo "nan nan nan"; return; fi
  awk -v c0="$c0" -v c1="$c1" -v tck="$(getconf CLK_TCK)" -v mb="$(jq -r .mb_per_s <<<"$line")" -v rt="$(jq -r '.retransmits // "nan"' <<<"$line")" \
    '{ printf "%s %s %.2f\n", mb, rt, $1 + $2 + (c1 - c0) / tck }' "$tfile"
}

ROWS=()
# run_case LABEL IMPL APP WORKLOAD BYTES RELAY LOSS RELAY_EXTRA FLAGS...: one warmed server (behind a relay unless
# RELAY is none), then REPS fresh clients; adds a row of medians.
run_case() {
  local label=$1 impl=$2 app=$3 workload=$4 bytes=$5 relay=$6 loss=$7 extra=$8; shift 8
  start_server "$impl" "$app" "$@"
  local addr=$SERVER_ADDR
  if [[ $relay != none ]]; then
    # shellcheck disable=SC2086
    start_relay "$relay" "$SERVER_ADDR" "$loss" $extra
    addr=$RELAY_ADDR
  fi
  client "$impl" "$addr" "$workload" 16M "$@" >/dev/null # warms the server (and its JIT)
  local mbs=() rts=() cpus=() mb rt cpu
  for _ in $(seq 1 "$REPS"); do
    read -r mb rt cpu < <(client "$impl" "$addr" "$workload" "$bytes" "$@")
    mbs+=("$mb"); rts+=("$rt"); cpus+=("$cpu")
  done
  if [[ $relay != none ]]; then stop_started "$RELAY_PID" "$RELAY_FD"; fi
  stop_started "$SERVER_PID" "$SERVER_FD"
  ROWS+=("| $label | $impl | $(median "${mbs[@]}") | $(median "${rts[@]}") | $(median "${cpus[@]}") | ${mbs[*]} |")
  log "$label $impl: MB/s ${mbs[*]}, retransmits ${rts[*]}, cpu s ${cpus[*]}"
}

# three SECURE LABEL APP WORKLOAD BYTES RELAY LOSS RELAY_EXTRA: the case for kcp, bbr and kcp-go, same settings.
three() {
  local secure=$1; shift
  local ours=("${PLAIN_OURS[@]}") go=("${PLAIN_GO[@]}")
  if [[ $secure == 1 ]]; then ours=("${SECURE_OURS[@]}"); go=("${SECURE_GO[@]}"); fi
  run_case "$1" kcp "${@:2}" "${ours[@]}"
  run_case "$1" bbr "${@:2}" "${ours[@]}"
  run_case "$1" go "${@:2}" "${go[@]}"
}

case $SITTING in
  loopback)
    three 0 "128 MiB echo, loopback, no FEC, crypt none" echo echo 128M none 0 ""
    three 0 "128 MiB bulk, loopback, no FEC, crypt none" sink bulk 128M none 0 ""
    ;;
  relay)
    for loss in 0.01 0.05; do
      three 1 "16 MiB bulk, our relay 5 ms, loss $loss, FEC 10/3 + aes" sink bulk 16M ours "$loss" ""
      three 1 "16 MiB bulk, Go relay 5 ms, loss $loss, FEC 10/3 + aes" sink bulk 16M go "$loss" ""
    done
    ;;
  bottleneck)
    three 0 "16 MiB bulk, Go relay 50 Mbit/s, 5 ms, 256-datagram queue, no FEC" sink bulk 16M go 0 "-rate 50 -queue 256"
    three 1 "16 MiB bulk, Go relay 50 Mbit/s, 5 ms, 256-datagram queue, 1% loss, FEC 10/3 + aes" sink bulk 16M go 0.01 "-rate 50 -queue 256"
    ;;
  *) echo "usage: $0 loopback|relay|bottleneck" >&2; exit 2 ;;
esac

echo "| case | impl | MB/s | retransmits | CPU s | MB/s runs |"
echo "| --- | --- | ---: | ---: | ---: | --- |"
printf '%s\n' "${ROWS[@]}"
