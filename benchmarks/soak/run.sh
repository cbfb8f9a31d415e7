#!/usr/bin/env bash
# Soak: one echo server on loopback, SESSIONS concurrent KCP sessions ping-ponging for DURATION seconds,
# server RSS/CPU sampled every INTERVAL seconds into docs/soak/soak.csv, then TAIL more seconds of sampling
# with no traffic (sessions close by the 60 s idle timeout), then SoakPlot draws the PNGs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/lib.sh
SESSIONS=${SESSIONS:-5000}
RATE=${RATE:-10}
DURATION=${DURATION:-600}
INTERVAL=${INTERVAL:-5}
TAIL=${TAIL:-75}
PORT=${PORT:-47310}
# Server and bench client each get a core of their own, so the server's CPU and memory figures are its own.
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
OUT=${OUT:-docs/soak/rate-$RATE}
KCPFLAGS=(--crypt aes --key soak --datashard 10 --parityshard 3 --mode fast3)
CLI=src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli
[ -x "$CLI" ] || dotnet build -c Release src/KcpKestrel.Cli >/dev/null
mkdir -p "$OUT"
CLK=$(getconf CLK_TCK)
PAGE=$(getconf PAGESIZE); : "$PAGE"

taskset -c "$SERVER_CPUS" "$CLI" serve --kcp 127.0.0.1:$PORT --app echo "${KCPFLAGS[@]}" >"$OUT/serve.log" 2>&1 &
SPID=$!
track_pid $SPID
for _ in $(seq 1 100); do grep -q '^listening' "$OUT/serve.log" && break; sleep 0.2; done
grep '^listening' "$OUT/serve.log"

# phase: bench = traffic running, idle = bench finished. The phase marker file is read by the sampler.
PHASEF=$(mktemp); echo bench >"$PHASEF"
sample() {
  local t0 now rss ticks thr fds
  t0=$(date +%s.%N)
  echo "t_s,rss_kb,cpu_ticks,clk_tck,threads,udp_rx_queue_bytes,phase" >"$OUT/soak.csv"
  while kill -0 $SPID 2>/dev/null; do
    now=$(date +%s.%N)
    rss=$(awk '/^VmRSS:/{print $2}' /proc/$SPID/status)
    thr=$(awk '/^Threads:/{print $2}' /proc/$SPID/status)
    # fields 14,15 = utime, stime (comm has no spaces here)
    ticks=$(cpu_ticks $SPID)
    # receive-queue backlog of the server's UDP socket (a sign of saturation), hex in /proc/net/udp
    fds=$(awk -v p=$(printf '%04X' $PORT) 'NR>1 { split($2,a,":"); if (a[2]==p) { split($5,q,":"); print q[2]; exit } }' /proc/net/udp)
    fds=$((16#${fds:-0}))
    printf '%.1f,%s,%s,%s,%s,%s,%s\n' "$(echo "$now - $t0" | bc)" "$rss" "$ticks" "$CLK" "$thr" "$fds" "$(cat "$PHASEF")" >>"$OUT/soak.csv"
    sleep "$INTERVAL"
  done
}
sample & SAMPLER=$!
track_pid $SAMPLER

START=$(date -u +%FT%TZ)
set +e
# --round-trip-timeout: an overloaded run's slow round trips are what it measures, not sessions ending (5 s by default).
/usr/bin/time -v taskset -c "$CLIENT_CPUS" "$CLI" bench --kcp 127.0.0.1:$PORT --workload sessions --sessions "$SESSIONS" --rate "$RATE" \
  --duration "$DURATION" --size 64 --timeout $((DURATION + 600)) --round-trip-timeout 600 "${KCPFLAGS[@]}" \
  >"$OUT/bench.out" 2>"$OUT/bench.err"
BRC=$?
set -e
END=$(date -u +%FT%TZ)
echo idle >"$PHASEF"
echo "bench rc=$BRC start=$START end=$END"
tail -n 1 "$OUT/bench.out" | tee "$OUT/bench.json"
sleep "$TAIL"
kill $SAMPLER 2>/dev/null || true; wait $SAMPLER 2>/dev/null || true
kill $SPID; wait $SPID 2>/dev/null || true
rm -f "$PHASEF"
{ echo "start=$START end=$END sessions=$SESSIONS rate=$RATE duration=$DURATION bench_rc=$BRC"; } >"$OUT/run.meta"
dotnet run -c Release --project benchmarks/soak/SoakPlot -- "$OUT/soak.csv" "$OUT" || echo "SoakPlot failed"
