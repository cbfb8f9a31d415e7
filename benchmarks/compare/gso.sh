#!/usr/bin/env bash
# One-session bulk throughput and server CPU with UDP GSO/GRO on and off (KCPKESTREL_UDP_GSO /
# KCPKESTREL_UDP_GRO), KcpKestrel against itself and against kcp-go 5.6.1 (tests/GoPeer), on loopback.
# Prints a Markdown table; not for CI. Same peers and flags as run.sh.
#
#   benchmarks/compare/gso.sh            # REPS=1 BULK=64M
#
# Needs: dotnet, go (Debian's kcp-go in /usr/share/gocode), jq, Linux /proc.
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
REPS=${REPS:-1}
BULK=${BULK:-64M}
bench_workdir kcpgso

dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
build_go_peer "$WORK/kcppeer"
OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"
PEER="$WORK/kcppeer"

PLAIN_OURS=(--mode fast3 --crypt none --datashard 0 --parityshard 0)
PLAIN_GO=(-crypt none -datashard 0 -parityshard 0)
SECURE_OURS=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3)
SECURE_GO=(-crypt aes -key bench -datashard 10 -parityshard 3)
TCK=$(getconf CLK_TCK)

# start NAME CMD...: runs a server with a held-open stdin (it stops when that closes); sets SERVER_PID, SERVER_LINE.
start() {
  local name=$1; shift
  local fifo="$WORK/$name.in" out="$WORK/$name.out"
  mkfifo "$fifo"
  "$@" <"$fifo" >"$out" 2>"$WORK/$name.err" &
  SERVER_PID=$!
  track_pid "$SERVER_PID"
  exec 9>"$fifo"
  for _ in $(seq 1 300); do [[ -s "$out" ]] && break; sleep 0.1; done
  SERVER_LINE=$(head -n1 "$out")
  [[ -n "$SERVER_LINE" ]] || { echo "$name did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
}
stop() { exec 9>&- || true; kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

# measure CMD...: runs the client REPS times against SERVER_PID; prints "MB/s server-CPU% retransmits" of the median-throughput run.
measure() {
  local results=()
  for _ in $(seq 1 "$REPS"); do
    local t0 c0 line t1 c1
    t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
    line=$("$@" 2>>"$WORK/clients.err" | tail -n1 || true)
    c1=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N)
    if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" != "true" ]]; then echo "FAILED: $* -> $line" >&2; results+=("0 0 -"); continue; fi
    results+=("$(jq -r '.mb_per_s' <<<"$line") $(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$TCK" 'BEGIN { printf "%.0f", (c1 - c0) / tck / (t1 - t0) * 100 }') $(jq -r '.retransmits // "-"' <<<"$line")")
  done
  printf '%s\n' "${results[@]}" | median_row
}

echo "| case | GSO/GRO | MB/s | server CPU (% of a core) | client retransmits |"
echo "| --- | --- | --- | --- | --- |"
for variant in plain secure; do
  if [[ $variant == plain ]]; then O=("${PLAIN_OURS[@]}"); G=("${PLAIN_GO[@]}"); label="no FEC, crypt none"; else O=("${SECURE_OURS[@]}"); G=("${SECURE_GO[@]}"); label="FEC 10/3 + aes"; fi
  for offload in 1 0; do
    export KCPKESTREL_UDP_GSO=$offload KCPKESTREL_UDP_GRO=$offload
    state=$([[ $offload == 1 ]] && echo on || echo off)

    log "$label, offload $state: kcpkestrel -> kcpkestrel"
    start "ours-$variant-$offload" $OURS serve --kcp 127.0.0.1:0 --app sink "${O[@]}"
    addr=$(grep -o 'kcp=[^ ]*' <<<"$SERVER_LINE" | cut -d= -f2)
    read -r mbs cpu rtx < <(measure $OURS bench --kcp "$addr" --workload bulk --bytes "$BULK" "${O[@]}")
    echo "| bulk $BULK, $label: kcpkestrel bench -> kcpkestrel serve | $state (both) | $mbs | $cpu | $rtx |"

    log "$label, offload $state: kcp-go -> kcpkestrel"
    read -r mbs cpu rtx < <(measure "$PEER" -mode client -target "$addr" -workload bulk -bytes $(( ${BULK%M} << 20 )) "${G[@]}")
    echo "| bulk $BULK, $label: kcp-go client -> kcpkestrel serve | $state (server) | $mbs | $cpu | $rtx |"
    stop

    log "$label, offload $state: kcpkestrel -> kcp-go"
    start "go-$variant-$offload" "$PEER" -mode server -listen 127.0.0.1:0 -app sink "${G[@]}"
    addr=${SERVER_LINE#listening }
    read -r mbs cpu rtx < <(measure $OURS bench --kcp "$addr" --workload bulk --bytes "$BULK" "${O[@]}")
    echo "| bulk $BULK, $label: kcpkestrel bench -> kcp-go server | $state (client) | $mbs | $cpu | $rtx |"
    stop
  done
done
unset KCPKESTREL_UDP_GSO KCPKESTREL_UDP_GRO
log "reference: kcp-go -> kcp-go"
for variant in plain secure; do
  if [[ $variant == plain ]]; then G=("${PLAIN_GO[@]}"); label="no FEC, crypt none"; else G=("${SECURE_GO[@]}"); label="FEC 10/3 + aes"; fi
  start "go-ref-$variant" "$PEER" -mode server -listen 127.0.0.1:0 -app sink "${G[@]}"
  addr=${SERVER_LINE#listening }
  read -r mbs cpu rtx < <(measure "$PEER" -mode client -target "$addr" -workload bulk -bytes $(( ${BULK%M} << 20 )) "${G[@]}")
  echo "| bulk $BULK, $label: kcp-go client -> kcp-go server | n/a | $mbs | $cpu | $rtx |"
  stop
done
