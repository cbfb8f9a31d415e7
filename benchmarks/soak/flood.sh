#!/usr/bin/env bash
# Established sessions' ping-pong RTT with and without a flood of junk datagrams from new source ports.
# The server runs with aes, so the flood fails the packet check and is dropped; what we measure is how much
# the dropping costs the sessions that are already up.
set -euo pipefail
cd "$(dirname "$0")/../.."
SESSIONS=${SESSIONS:-50}
RATE=${RATE:-20}
DURATION=${DURATION:-20}
FLOOD_SOCKETS=${FLOOD_SOCKETS:-2000}
PORT=${PORT:-47320}
OUT=${OUT:-docs/soak}
KCPFLAGS=(--crypt aes --key soak --datashard 10 --parityshard 3 --mode fast3)
CLI=src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli
[ -x "$CLI" ] || dotnet build -c Release src/KcpKestrel.Cli >/dev/null
mkdir -p "$OUT"

"$CLI" serve --kcp 127.0.0.1:$PORT --app echo "${KCPFLAGS[@]}" >"$OUT/flood-serve.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening' "$OUT/flood-serve.log" && break; sleep 0.2; done
grep '^listening' "$OUT/flood-serve.log"

bench() {
  "$CLI" bench --kcp 127.0.0.1:$PORT --workload sessions --sessions "$SESSIONS" --rate "$RATE" \
    --duration "$DURATION" --size 64 "${KCPFLAGS[@]}" 2>/dev/null | tail -n 1
}

echo "== baseline (no flood)"
bench | tee "$OUT/flood-baseline.json"
sleep 2

echo "== with flood ($FLOOD_SOCKETS sockets, random 100-byte datagrams)"
# the bench dials first; give the dials a second, then flood for the bench's whole duration
( bench >"$OUT/flood-under.json" ) & BPID=$!
sleep 1
python3 benchmarks/soak/flood.py 127.0.0.1 "$PORT" "$DURATION" "$FLOOD_SOCKETS" 100 | tee "$OUT/flood-sender.json"
wait $BPID
cat "$OUT/flood-under.json"
sleep 2

# Control: the flooder itself takes about one of the 2 cores; burn one core for the same time with no
# packets, so the slowdown due to CPU contention alone can be told apart from the cost of the junk packets.
echo "== control: one core busy, no flood"
( bench >"$OUT/flood-control.json" ) & BPID=$!
sleep 1
python3 -c "import time
t=time.monotonic()+$DURATION
while time.monotonic()<t: pass"
wait $BPID
cat "$OUT/flood-control.json"
RSS=$(awk '/^VmRSS:/{print $2}' /proc/$SPID/status)
echo "server VmRSS after flood: ${RSS} kB" | tee "$OUT/flood-server-rss.txt"

python3 - "$OUT/flood-baseline.json" "$OUT/flood-under.json" "$OUT/flood-control.json" <<'PY' | tee "$OUT/flood-summary.txt"
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:4])
for k in ("rtt_p50_us", "rtt_p99_us"):
    print(f"{k}: baseline {a[k]} flood {b[k]} (x{b[k] / a[k]:.2f}) one-core-busy control {c[k]} (x{c[k] / a[k]:.2f})")
print(f"ok baseline/flood/control: {a['ok']}/{b['ok']}/{c['ok']} errors: {a['errors']}/{b['errors']}/{c['errors']}")
PY
