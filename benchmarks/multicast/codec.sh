#!/usr/bin/env bash
# Multicast with the packet cipher and FEC (issue #20): `kcpkestrel multicast pub/sub` 1->1 on loopback, 70-byte
# messages, four codec settings (none, aes-128-gcm, FEC 10/3, both), lossless and with DROP at the subscriber;
# prints each run's pub and sub JSON lines (msg_per_s, naks_sent, fec_recovered...).
#
#   benchmarks/multicast/codec.sh                            # COUNT=500000 HISTORY=65536 PPS=0 DROPS="0 0.05"
#   PPS=20000 COUNT=300000 benchmarks/multicast/codec.sh     # paced: no kernel overruns, so NAKs are the drop filter's
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

COUNT=${COUNT:-500000}
HISTORY=${HISTORY:-65536} # the loaded 2-core machine: a subscriber behind by more than the default ring resyncs
PPS=${PPS:-0}
DROPS=${DROPS:-"0 0.05"}
GROUP=${GROUP:-239.192.77.9}
PORT=${PORT:-45320}
INTERFACE=${INTERFACE:-127.0.0.1}

out=$(bench_build_dir mccodec)
log "building kcpkestrel (Release) into $out"
dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo -o "$out" >/dev/null
CLI=$out/KcpKestrel.Cli
bench_workdir mccodec

bench_lock
log "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo "# multicast codec 1->1: count=$COUNT size=70 history=$HISTORY pps=$PPS"
port=$PORT
for drop in $DROPS; do
  for codec in "" "--crypt aes-128-gcm --key bench" "--datashard 10 --parityshard 3" "--crypt aes-128-gcm --key bench --datashard 10 --parityshard 3"; do
    port=$((port + 1)) # a fresh port each run: no late repair traffic from the previous one
    # shellcheck disable=SC2086 # $codec is a list of flags
    "$CLI" multicast sub --group "$GROUP:$port" --interface "$INTERFACE" --count "$COUNT" --drop "$drop" --seed 1 --timeout 60 $codec \
      >"$WORK/sub.$port" 2>>"$WORK/log" &
    sub=$!; track_pid $sub
    sleep 1
    # shellcheck disable=SC2086
    "$CLI" multicast pub --group "$GROUP:$port" --interface "$INTERFACE" --count "$COUNT" --history "$HISTORY" --pps "$PPS" \
      --linger 2 $codec >"$WORK/pub.$port" 2>>"$WORK/log"
    wait "$sub" || true
    echo "drop=$drop codec=[${codec:-none}]"
    echo "  pub: $(tail -1 "$WORK/pub.$port")"
    echo "  sub: $(grep '^{' "$WORK/sub.$port" | tail -1)"
  done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
