#!/usr/bin/env bash
# Side by side through a lossy relay with delay: kcpkestrel (serve/bench) against kcp-go 5.6.1 (tests/GoPeer), each
# behind its own fresh relay, servers warmed, fresh client processes, medians of REPS. One line per case on stdout:
#   relay loss variant workload | ours MB/s retx fec | kcp-go MB/s retx fec | ratio
# (retx and fec: the client's retransmitted segments and FEC-rebuilt packets, of the median run)
# BUILDS="name=DIR ..." compares several builds of kcpkestrel (DIR holding KcpKestrel.Cli.dll) in the same sitting:
# one "ours" column per build, one ratio per build.
#
#   benchmarks/compare/lossy.sh                          # both relays, 0/1/5% loss, plain and FEC 10/3 + aes, echo and bulk
#   RELAYS=go LOSSES="0.05" VARIANTS=secure WORKLOADS=echo REPS=3 benchmarks/compare/lossy.sh
#
# Holds the machine-wide benchmark lock for the whole sitting. Needs dotnet, go, jq.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
REPS=${REPS:-3}
BYTES=${BYTES:-16M}
WARM=${WARM:-8M}
DELAY_MS=${DELAY_MS:-5}
RELAYS=${RELAYS:-"go ours"}
LOSSES=${LOSSES:-"0 0.01 0.05"}
VARIANTS=${VARIANTS:-"plain secure"}
WORKLOADS=${WORKLOADS:-"echo bulk"}
SEED=${SEED:-7}
bench_workdir kcplossy
command -v jq >/dev/null || { echo "jq is not on PATH" >&2; exit 1; }

if [[ "${NO_BUILD:-}" != 1 ]]; then
  log "building kcpkestrel (Release), the kcp-go peer and the Go relay"
  dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
fi
build_go_peer "$WORK/kcppeer"
build_go_relay "$WORK/gorelay"
BUILDS=${BUILDS:-"ours=$ROOT/src/KcpKestrel.Cli/bin/Release/net10.0"}
first_build=${BUILDS%% *}
OURS="dotnet ${first_build#*=}/KcpKestrel.Cli.dll" # runs our relay
PEER="$WORK/kcppeer"
bench_lock

# start_with_stdin and stop_started come from lib.sh.

start_relay() { # KIND TARGET LOSS
  RELAY_NAME="relay-$RANDOM"
  if [[ $1 == go ]]; then
    start_with_stdin "$RELAY_NAME" "$WORK/gorelay" -listen 127.0.0.1:0 -target "$2" -loss "$3" -delay "${DELAY_MS}ms" -seed "$SEED"
    RELAY_ADDR=${STARTED_LINE#listening }
  else
    start_with_stdin "$RELAY_NAME" $OURS relay --listen 127.0.0.1:0 --target "$2" --loss "$3" --delay "$DELAY_MS" --seed "$SEED"
    RELAY_ADDR=$(awk '{print $2}' <<<"$STARTED_LINE")
  fi
  RELAY_PID=$STARTED_PID; RELAY_FD=$STARTED_FD
}
# stop_relay: closes the relay's stdin and, with VERBOSE, shows its last stderr line (the Go relay prints its counters when stdin closes).
stop_relay() {
  eval "exec $RELAY_FD>&-" || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.05; done
  stop_started "$RELAY_PID" "$RELAY_FD"
  [[ -n "${VERBOSE:-}" ]] && tail -n1 "$WORK/$RELAY_NAME.err" >&2 || true
}

# reps CMD...: REPS fresh runs; prints "MBps retx fec" of the median-throughput run ("fail" on any failure).
reps() {
  local lines=() line
  for _ in $(seq 1 "$REPS"); do
    line=$("$@" 2>>"$WORK/clients.err" | tail -n1 || true)
    if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" != "true" ]]; then echo "FAILED: $* -> $line" >&2; echo "fail - -"; return; fi
    lines+=("$(jq -r '"\(.mb_per_s) \(.retransmits) \(.fec_recovered)"' <<<"$line")")
    [[ -n "${VERBOSE:-}" ]] && echo "  $line" >&2
  done
  printf '%s\n' "${lines[@]}" | median_row | awk '{printf "%.2f %d %d", $1, $2, $3}'
}

for relay in $RELAYS; do
  for loss in $LOSSES; do
    for variant in $VARIANTS; do
      if [[ $variant == plain ]]; then
        O=(--mode fast3 --crypt none --datashard 0 --parityshard 0); G=(-crypt none -datashard 0 -parityshard 0)
      else
        O=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3); G=(-crypt aes -key bench -datashard 10 -parityshard 3)
      fi
      for workload in $WORKLOADS; do
        app=$([[ $workload == echo ]] && echo echo || echo sink)
        results=()
        for build in $BUILDS; do
          bin="dotnet ${build#*=}/KcpKestrel.Cli.dll"
          start_with_stdin "ours-$RANDOM" $bin serve --kcp 127.0.0.1:0 --app "$app" "${O[@]}" ${OURS_EXTRA:-}
          OURS_PID=$STARTED_PID; OURS_FD=$STARTED_FD; OURS_ADDR=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
          start_relay "$relay" "$OURS_ADDR" "$loss"
          $bin bench --kcp "$RELAY_ADDR" --workload "$workload" --bytes "$WARM" "${O[@]}" >/dev/null 2>&1 || true
          results+=("$(reps $bin bench --kcp "$RELAY_ADDR" --workload "$workload" --bytes "$BYTES" "${O[@]}" ${OURS_EXTRA:-})")
          stop_relay; stop_started "$OURS_PID" "$OURS_FD"
        done
        theirs="skip - -"
        if [[ "${SKIP_GO:-}" != 1 ]]; then
          start_with_stdin "go-$RANDOM" "$PEER" -mode server -listen 127.0.0.1:0 -app "$app" "${G[@]}"
          GO_PID=$STARTED_PID; GO_FD=$STARTED_FD; GO_ADDR=${STARTED_LINE#listening }
          start_relay "$relay" "$GO_ADDR" "$loss"
          "$PEER" -mode client -target "$RELAY_ADDR" -workload "$workload" -bytes $(( ${WARM%M} << 20 )) "${G[@]}" >/dev/null 2>&1 || true
          theirs=$(reps "$PEER" -mode client -target "$RELAY_ADDR" -workload "$workload" -bytes $(( ${BYTES%M} << 20 )) "${G[@]}")
          stop_relay; stop_started "$GO_PID" "$GO_FD"
        fi
        line=$(printf '%-4s %-5s %-6s %-5s' "$relay" "$loss" "$variant" "$workload")
        ratios=""
        i=0
        for build in $BUILDS; do
          ours=${results[$i]}; i=$((i + 1))
          line+=" | ${build%%=*} $ours"
          ratios+=" $(awk -v a="${ours%% *}" -v b="${theirs%% *}" 'BEGIN { if (b+0 == 0 || a == "fail") print "-"; else printf "%.2f", a / b }')"
        done
        echo "$line | kcp-go $theirs |$ratios"
      done
    done
  done
done
