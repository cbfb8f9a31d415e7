#!/usr/bin/env bash
# Established sessions' ping-pong RTT with and without a flood of junk datagrams from new source ports.
# The server runs with aes, so the flood fails the packet check and is dropped; what we measure is how much
# the dropping costs the sessions that are already up.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/lib.sh
SESSIONS=${SESSIONS:-50}
RATE=${RATE:-20}
DURATION=${DURATION:-20}
FLOOD_SOCKETS=${FLOOD_SOCKETS:-2000}
PORT=${PORT:-47320}
ROUNDS=${ROUNDS:-3}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
OUT=${OUT:-docs/soak}
KCPFLAGS=(--crypt aes --key soak --datashard 10 --parityshard 3 --mode fast3)
CLI=src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli
[ -x "$CLI" ] || dotnet build -c Release src/KcpKestrel.Cli >/dev/null
mkdir -p "$OUT"

taskset -c "$SERVER_CPUS" "$CLI" serve --kcp 127.0.0.1:$PORT --app echo "${KCPFLAGS[@]}" >"$OUT/flood-serve.log" 2>&1 &
SPID=$!
track_pid $SPID
for _ in $(seq 1 100); do grep -q '^listening' "$OUT/flood-serve.log" && break; sleep 0.2; done
grep '^listening' "$OUT/flood-serve.log"

bench() {
  taskset -c "$CLIENT_CPUS" "$CLI" bench --kcp 127.0.0.1:$PORT --workload sessions --sessions "$SESSIONS" --rate "$RATE" \
    --duration "$DURATION" --size 64 "${KCPFLAGS[@]}" 2>/dev/null | tail -n 1
}

# Each round runs the same bench three ways, back to back, so drift in the machine's load hits all three:
#   baseline: nothing else running;
#   flood:    the flooder sends random 100-byte datagrams from FLOOD_SOCKETS new source ports at full speed;
#   control:  a busy loop on the flooder's core and no packets, which separates "a core is busy" from
#             "the server is checking and dropping junk".
# The server has its own core (SERVER_CPUS); the bench client and the flooder / busy loop share CLIENT_CPUS.
: >"$OUT/flood-rounds.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: baseline"
  b=$(bench); echo "$b"
  sleep 1
  echo "== round $round: flood ($FLOOD_SOCKETS sockets)"
  ( bench >"$OUT/flood-under.json" ) & BPID=$!
  sleep 1
  f=$(taskset -c "$CLIENT_CPUS" python3 benchmarks/soak/flood.py 127.0.0.1 "$PORT" "$DURATION" "$FLOOD_SOCKETS" 100)
  wait $BPID
  u=$(cat "$OUT/flood-under.json"); echo "$u"; echo "$f"
  sleep 1
  echo "== round $round: control (busy core, no packets)"
  ( bench >"$OUT/flood-control.json" ) & BPID=$!
  sleep 1
  taskset -c "$CLIENT_CPUS" python3 -c "import time
t=time.monotonic()+$DURATION
while time.monotonic()<t: pass"
  wait $BPID
  c=$(cat "$OUT/flood-control.json"); echo "$c"
  printf '{"round":%s,"baseline":%s,"flood":%s,"control":%s,"sender":%s}\n' "$round" "$b" "$u" "$c" "$f" >>"$OUT/flood-rounds.jsonl"
  sleep 1
done
RSS=$(awk '/^VmRSS:/{print $2}' /proc/$SPID/status)
echo "server VmRSS after flood: ${RSS} kB" | tee "$OUT/flood-server-rss.txt"

python3 - "$OUT/flood-rounds.jsonl" <<'PY' | tee "$OUT/flood-summary.txt"
import json, statistics, sys
rounds = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for k in ("rtt_p50_us", "rtt_p99_us"):
    b = statistics.median(r["baseline"][k] for r in rounds)
    f = statistics.median(r["flood"][k] for r in rounds)
    c = statistics.median(r["control"][k] for r in rounds)
    print(f"{k} (median of {len(rounds)} rounds): baseline {b:.0f} flood {f:.0f} (x{f / b:.2f}) control {c:.0f} (x{c / b:.2f}); flood/control x{f / c:.2f}")
    print("  per round flood/control: " + ", ".join(f"{r['flood'][k] / r['control'][k]:.2f}" for r in rounds))
rate = statistics.median(r["sender"].get("pps", 0) for r in rounds)
print(f"flood rate (median): {rate:.0f} datagrams/s")
print("ok: " + ", ".join(f"{r['baseline']['ok']}/{r['flood']['ok']}/{r['control']['ok']}" for r in rounds)
      + "  errors: " + ", ".join(f"{r['baseline']['errors']}/{r['flood']['errors']}/{r['control']['errors']}" for r in rounds))
PY
