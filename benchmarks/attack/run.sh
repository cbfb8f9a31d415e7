#!/usr/bin/env bash
# Attack harness (issue #18) against a live `kcpkestrel serve` on loopback. Bounded in time; prints one JSON
# line per measurement on stdout and writes benchmarks/results/attack.md. Every case reads the server's own
# counters from the one JSON line `serve` prints on SIGTERM ({"event":"stopped","kcp":{...}}).
#
#   amplification  a spoofed HTTP request (one KCP PUSH from 127.0.0.2 that never acks) at `serve --app http
#                  --crypt none`, FEC 0/0 and 10/3: bytes the victim receives / bytes the attacker sent (<= 3);
#                  and in each of AEAD_MODES at `serve --app http`, one datagram a real client sent (its dial
#                  probe, its TOKEN echoing a valid token, its HTTP request; captured by capture.py) per
#                  spoofed source (<= 1)
#   forged         random datagrams flooded at `serve` in each --crypt mode: server CPU per forged datagram
#   double-bind    a second serve on a taken KCP or TCP port exits non-zero with address-in-use
#   replay         a real HTTP client's datagrams (capture.py) replayed once each from REPLAY_PORTS new source
#                  ports, and from the client's own port mid-session: sessions opened (0), bytes drawn (<= 1x)
#   dial           DIALS fresh `bench` processes (bench's connect_ms), then DIALS warm dials in one process
#                  (dialtime.cs), each against aes-256-gcm with and without address validation, interleaved
#   hostile        sessions pinning far-ahead segments and partial FEC groups at `serve --app sink --crypt none`:
#                  server RSS (before/peak/after) against ListenerReceiveBudget (HOSTILE_* below)
#
# Environment: CASES (all, or some of: amplification forged double-bind replay dial hostile)
#              AMP_SECONDS (60) SOURCES (10) FLOOD_SECONDS (10) FLOOD_SIZE (1400) FLOOD_SOCKETS (64)
#              MODES (every --crypt mode) AEAD_MODES (aes-256-gcm chacha20-poly1305) REPLAY_PORTS (500) DIALS (30)
#              SERVER_CPUS (0) CLIENT_CPUS (1) PORT (47500) OUT (benchmarks/results/attack.md)
#              HOSTILE_SESSIONS (300) HOSTILE_SEGMENTS (1000) HOSTILE_SECONDS (30) HOSTILE_BUDGETS ("64M 1024G")
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/lib.sh
CASES=${CASES:-all}
AMP_SECONDS=${AMP_SECONDS:-60}
SOURCES=${SOURCES:-10}
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
FLOOD_SIZE=${FLOOD_SIZE:-1400}
FLOOD_SOCKETS=${FLOOD_SOCKETS:-64}
MODES=${MODES:-"none null xor aes aes-128 aes-192 salsa20 blowfish twofish cast5 3des tea xtea sm4 aes-128-gcm aes-256-gcm chacha20-poly1305"}
AEAD_MODES=${AEAD_MODES:-"aes-256-gcm chacha20-poly1305"}
REPLAY_PORTS=${REPLAY_PORTS:-500}
DIALS=${DIALS:-30}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
PORT=${PORT:-47500}
OUT=${OUT:-benchmarks/results/attack.md}
CLI=src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli
[ -x "$CLI" ] || dotnet build -c Release src/KcpKestrel.Cli >/dev/null
TCK=$(getconf CLK_TCK)
bench_workdir kcp-attack
RESULTS=$WORK/results.jsonl
: >"$RESULTS"

# emit JSON: one measurement on stdout and into the results.
emit() { echo "$1"; echo "$1" >>"$RESULTS"; }

# want CASE: whether CASES selects it.
want() { [ "$CASES" = all ] || [[ " $CASES " == *" $1 "* ]]; }

# HTTP/1.1 over KCP (benchmarks/attack/httpget.cs): the real client whose datagrams capture.py records.
HTTPGET=(dotnet run -c Release --no-build benchmarks/attack/httpget.cs --)
if want amplification || want replay; then dotnet build -c Release benchmarks/attack/httpget.cs >/dev/null; fi

# capture NAME MODE COUNT PAUSE_MS OWN_REPLAY_AT: runs httpget (COUNT requests for /plaintext) through capture.py
# against the serve already started; the capture goes to $WORK/NAME.json, capture.py's summary to CAPTURE.
capture() {
  CAPTURE=$(python3 benchmarks/attack/capture.py 127.0.0.1 "$PORT" "$WORK/$1.json" "$5" -- \
    "${HTTPGET[@]}" '{target}' "$2" attack /plaintext "$3" "$4") || { log "capture $1 failed: $CAPTURE"; exit 1; }
}

# start_serve NAME ARGS...: starts serve on SERVER_CPUS, waits for its ready line; sets SPID.
start_serve() {
  local name=$1; shift
  taskset -c "$SERVER_CPUS" "$CLI" serve "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SPID=$!
  track_pid "$SPID"
  for _ in $(seq 1 150); do grep -qs '^listening' "$WORK/$name.out" && return 0; sleep 0.2; done
  log "serve $name did not start: $(cat "$WORK/$name.err")"; exit 1
}

# stop_serve NAME: SIGTERM, waits for the exit (not in a subshell: only this shell can wait for it), sets KCP
# to the stop line's "kcp" object.
stop_serve() {
  kill -TERM "$SPID"
  wait "$SPID" || true
  KCP=$(grep '^{"event":"stopped"' "$WORK/$1.out" | tail -n 1 | jq -c .kcp)
  [ -n "$KCP" ] || { log "serve $1 printed no stop line: $(cat "$WORK/$1.err")"; exit 1; }
}

if want amplification; then
log "amplification: ${AMP_SECONDS}s, $SOURCES spoofed sources, crypt none"
for fec in 0 1; do
  shards=(--datashard 0 --parityshard 0); [ "$fec" = 1 ] && shards=(--datashard 10 --parityshard 3)
  start_serve amp$fec --kcp 127.0.0.1:$PORT --app http --crypt none "${shards[@]}"
  probe=$(taskset -c "$CLIENT_CPUS" python3 benchmarks/attack/spoof.py 127.0.0.1 $PORT "$AMP_SECONDS" "$fec" "$SOURCES" 127.0.0.2)
  stop_serve amp$fec; kcp=$KCP
  emit "$(jq -c --argjson kcp "$kcp" '. + {mode: "none", server_ratio: (if $kcp.bytesIn > 0 then ($kcp.bytesOut / $kcp.bytesIn * 1000 | round / 1000) else null end), kcp: $kcp}' <<<"$probe")"
done

# AEAD modes: the spoofed sources send datagrams a real client sent (sealed, so they pass the AEAD), captured
# against another serve with the same key; address validation answers each with at most one RETRY.
for mode in $AEAD_MODES; do
  log "amplification: ${AMP_SECONDS}s, $SOURCES spoofed sources per captured datagram, crypt $mode"
  start_serve cap-$mode --kcp 127.0.0.1:$PORT --app http --crypt "$mode" --key attack
  capture cap-$mode "$mode" 1 0 0
  stop_serve cap-$mode
  start_serve amp-$mode --kcp 127.0.0.1:$PORT --app http --crypt "$mode" --key attack
  probe=$(taskset -c "$CLIENT_CPUS" python3 benchmarks/attack/spoof.py 127.0.0.1 $PORT "$AMP_SECONDS" 1 "$SOURCES" 127.0.0.2 "$WORK/cap-$mode.json" probe,token,request)
  stop_serve amp-$mode; kcp=$KCP
  while read -r row; do
    emit "$(jq -c --arg mode "$mode" --argjson kcp "$kcp" '. + {mode: $mode, server_ratio: (if $kcp.bytesIn > 0 then ($kcp.bytesOut / $kcp.bytesIn * 1000 | round / 1000) else null end), kcp: $kcp}' <<<"$row")"
  done <<<"$probe"
done
fi

if want forged; then
log "forged datagrams: ${FLOOD_SECONDS}s of ${FLOOD_SIZE}-byte random datagrams from $FLOOD_SOCKETS ports per mode"
for mode in $MODES; do
  start_serve forged-$mode --kcp 127.0.0.1:$PORT --app echo --crypt "$mode" --key attack --datashard 10 --parityshard 3
  sleep 1
  t0=$(cpu_ticks "$SPID")
  flood=$(taskset -c "$CLIENT_CPUS" python3 benchmarks/soak/flood.py 127.0.0.1 $PORT "$FLOOD_SECONDS" "$FLOOD_SOCKETS" "$FLOOD_SIZE")
  sleep 0.5
  t1=$(cpu_ticks "$SPID")
  stop_serve forged-$mode; kcp=$KCP
  emit "$(jq -nc --arg mode "$mode" --argjson flood "$flood" --argjson kcp "$kcp" --argjson ticks $((t1 - t0)) --argjson tck "$TCK" '
    {case: "forged", mode: $mode, size: $flood.size, sent: $flood.sent, received: $kcp.datagramsIn,
     server_cpu_s: ($ticks / $tck),
     ns_per_datagram: (if $kcp.datagramsIn > 0 then ($ticks / $tck * 1e9 / $kcp.datagramsIn | round) else null end),
     sessions: $kcp.sessionsAccepted, dropped: ($kcp.dropped | with_entries(select(.value > 0)))}')"
done
fi

if want double-bind; then
log "double bind"
start_serve first --kcp 127.0.0.1:$PORT --tcp 127.0.0.1:$((PORT + 1)) --app echo
FIRST=$SPID
for taken in kcp tcp; do
  if [ "$taken" = kcp ]; then args=(--kcp 127.0.0.1:$PORT --tcp 127.0.0.1:0); else args=(--kcp 127.0.0.1:0 --tcp 127.0.0.1:$((PORT + 1))); fi
  set +e
  timeout 30 "$CLI" serve "${args[@]}" --app echo >"$WORK/second.out" 2>"$WORK/second.err"
  code=$?
  set -e
  emit "$(jq -nc --arg t "$taken" --argjson code $code --arg err "$(grep -m1 "^kcpkestrel:" "$WORK/second.err" || true)" --arg out "$(cat "$WORK/second.out")" \
    '{case: "double-bind", taken: $t, exit_code: $code, refused: ($code != 0 and ($err | test("address already in use")) and ($out == "")), message: $err}')"
done
bench=$("$CLI" bench --kcp 127.0.0.1:$PORT --workload echo --bytes 64K 2>/dev/null | tail -n 1)
SPID=$FIRST
stop_serve first; kcp=$KCP
emit "$(jq -nc --argjson bench "$bench" --argjson kcp "$kcp" '{case: "double-bind", taken: "first-still-serves", ok: $bench.ok, sessions: $kcp.sessionsAccepted}')"
fi

if want replay; then
for mode in $AEAD_MODES; do
  log "replay: a real HTTP client's $mode datagrams from $REPLAY_PORTS new source ports and from its own port"
  start_serve replay-$mode --kcp 127.0.0.1:$PORT --app http --crypt "$mode" --key attack
  # Four requests 300 ms apart: the session is still open when, 0.5 s in, capture.py resends from its own port.
  capture replay-$mode "$mode" 4 300 0.5
  replay=$(taskset -c "$CLIENT_CPUS" python3 benchmarks/attack/replay.py 127.0.0.1 $PORT "$WORK/replay-$mode.json" "$REPLAY_PORTS" 3 \
    127.0.0.1,127.0.0.3,127.0.0.4,127.0.0.5)
  stop_serve replay-$mode; kcp=$KCP
  emit "$(jq -c --arg mode "$mode" --argjson cap "$CAPTURE" --argjson kcp "$kcp" '. + {mode: $mode,
    sessions_opened_by_replays: ($kcp.sessionsAccepted - $cap.clients), validated_by_replays: ($kcp.sessionsValidated - $cap.clients),
    own_port: $cap.own_port_replay, client: $cap.client, client_sessions: $cap.clients, kcp: $kcp}' <<<"$replay")"
done
fi

if want dial; then
log "dial: $DIALS fresh bench processes and $DIALS warm dials in one process each, aes-256-gcm with and without address validation, interleaved"
start_serve dial-on --kcp 127.0.0.1:$PORT --app echo --crypt aes-256-gcm --key attack --address-validation true; ON=$SPID
start_serve dial-off --kcp 127.0.0.1:$((PORT + 2)) --app echo --crypt aes-256-gcm --key attack --address-validation false; OFF=$SPID
: >"$WORK/dials"
for i in $(seq 1 "$DIALS"); do
  order="true false"; [ $((i % 2)) = 0 ] && order="false true"
  for v in $order; do
    p=$PORT; [ "$v" = false ] && p=$((PORT + 2))
    line=$(taskset -c "$CLIENT_CPUS" "$CLI" bench --kcp 127.0.0.1:$p --workload pingpong --count 1 --size 64 \
      --crypt aes-256-gcm --key attack --address-validation "$v" 2>/dev/null | tail -n 1 || true)
    jq -c --argjson v "$v" '{client: "fresh process", validation: $v, ok, connect_ms}' <<<"${line:-"{}"}" >>"$WORK/dials"
  done
done
# The same dials warm: one process (benchmarks/attack/dialtime.cs), alternating, after a discarded warm-up dial.
dotnet build -c Release benchmarks/attack/dialtime.cs >/dev/null
taskset -c "$CLIENT_CPUS" dotnet run -c Release --no-build benchmarks/attack/dialtime.cs -- 127.0.0.1:$PORT 127.0.0.1:$((PORT + 2)) \
  aes-256-gcm attack "$DIALS" | jq -c '{client: "warm, one process", validation, ok: true, connect_ms: .connect_ms[]}' >>"$WORK/dials"
SPID=$ON; stop_serve dial-on; kon=$KCP
SPID=$OFF; stop_serve dial-off; koff=$KCP
for client in "fresh process" "warm, one process"; do
  for v in true false; do
    kcp=$kon; [ "$v" = false ] && kcp=$koff
    emit "$(jq -sc --arg client "$client" --argjson v "$v" --argjson kcp "$kcp" '
      map(select(.client == $client and .validation == $v)) as $d | ($d | map(.connect_ms | numbers) | sort) as $ms |
      {case: "dial", client: $client, address_validation: $v, dials: ($d | length), ok: ($d | map(select(.ok)) | length),
       p50_ms: (($ms[(($ms | length) - 1) / 2 | floor] + $ms[($ms | length) / 2 | floor]) / 2 * 1000 | round / 1000),
       p90_ms: $ms[(($ms | length) * 0.9 | ceil) - 1], min_ms: $ms[0], max_ms: $ms[-1],
       serve_sessions: $kcp.sessionsAccepted, serve_unvalidated: $kcp.dropped.unvalidated, connect_ms: ($d | map(.connect_ms))}' "$WORK/dials")"
  done
done
fi

# HOSTILE_SESSIONS sessions each try to pin HOSTILE_SEGMENTS far-ahead segments and partial FEC groups of their
# own shape (benchmarks/attack/hostile.py) at `serve --app sink --crypt none`, once per listener budget in
# HOSTILE_BUDGETS (the last one large enough to bound nothing). Server RSS from /proc/<pid>/status: VmRSS before,
# VmHWM (peak) and VmRSS after the attack.
if want hostile; then
HOSTILE_SESSIONS=${HOSTILE_SESSIONS:-300}
HOSTILE_SEGMENTS=${HOSTILE_SEGMENTS:-1000}
HOSTILE_SECONDS=${HOSTILE_SECONDS:-30}
HOSTILE_BUDGETS=${HOSTILE_BUDGETS:-"64M 1024G"}
vm_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
for budget in $HOSTILE_BUDGETS; do
  log "hostile: $HOSTILE_SESSIONS sessions x $HOSTILE_SEGMENTS segments, listener receive budget $budget"
  start_serve hostile-$budget --kcp 127.0.0.1:$PORT --app sink --crypt none --datashard 10 --parityshard 3 \
    --listener-receive-budget "$budget" --unproven-timeout 60
  sleep 1
  rss_before=$(vm_kib "$SPID" VmRSS)
  probe=$(taskset -c "$CLIENT_CPUS" timeout $((HOSTILE_SECONDS + 30)) python3 benchmarks/attack/hostile.py 127.0.0.1 $PORT "$HOSTILE_SECONDS" "$HOSTILE_SESSIONS" "$HOSTILE_SEGMENTS")
  sleep 3
  rss_peak=$(vm_kib "$SPID" VmHWM)
  rss_after=$(vm_kib "$SPID" VmRSS)
  stop_serve hostile-$budget; kcp=$KCP
  emit "$(jq -c --arg budget "$budget" --argjson before "$rss_before" --argjson peak "$rss_peak" --argjson after "$rss_after" --argjson kcp "$kcp" '
    . + {budget: $budget, budget_bytes: $kcp.receiveBudget, rss_before_mib: ($before / 1024 | round), rss_peak_mib: ($peak / 1024 | round),
         rss_after_mib: ($after / 1024 | round), held_peak_mib: ($kcp.receiveBytesPeak / 1048576 * 10 | round / 10),
         sessions: $kcp.sessionsAccepted, closed_for_memory: $kcp.sessionsClosedForMemory, datagrams_in: $kcp.datagramsIn,
         dropped: ($kcp.dropped | with_entries(select(.value > 0))), kcp: $kcp}' <<<"$probe")"
done
fi

python3 - "$RESULTS" "$OUT" "$CASES" "$( [ "$CASES" = all ] || printf 'CASES="%s" ' "$CASES")AMP_SECONDS=$AMP_SECONDS SOURCES=$SOURCES FLOOD_SECONDS=$FLOOD_SECONDS FLOOD_SIZE=$FLOOD_SIZE FLOOD_SOCKETS=$FLOOD_SOCKETS REPLAY_PORTS=$REPLAY_PORTS DIALS=$DIALS benchmarks/attack/run.sh" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cases, command, cores, cpu = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
# Sections after the raw measurements come from other benchmarks (written by hand): kept as they are. When only
# some CASES ran, the other cases' rows are kept from the previous report's raw measurements.
kept, previous, old_rows = "", None, []
if os.path.exists(sys.argv[2]):
    old = open(sys.argv[2]).read()
    raw = old.find("## Raw measurements")
    start = old.find("```\n", raw) + 4 if raw >= 0 else -1
    end = old.find("```\n", start) if raw >= 0 else -1
    if end >= 0:
        kept = old[end + 4:]
        old_rows = [json.loads(l) for l in old[start:end].splitlines() if l.startswith("{")]
    previous = old.split("`")[1] if old.count("`") > 1 else None
if cases != "all":
    ran = set(cases.split())
    order = ["amplification", "forged", "double-bind", "replay", "dial"]
    rows = sorted([r for r in old_rows if r["case"] not in ran] + rows,
                  key=lambda r: order.index(r["case"]) if r["case"] in order else len(order))
o = ["# Attack harness (issue #18)", "",
     f"`{command}` against a live `kcpkestrel serve` on loopback ({cpu}, {cores} cores; server pinned to one core, "
     "attacker to the other). Counters come from the JSON line `serve` prints on SIGTERM.", ""]
if cases != "all" and previous:
    o += [f"Only {cases} ran then; the other sections are from an earlier run: `{previous}`.", ""]


def drops(kcp):
    return ", ".join(f"{k} {v}" for k, v in kcp["dropped"].items() if v) or "-"


amp = [r for r in rows if r["case"] == "amplification" and r.get("mode", "none") == "none"]
if amp:
    o += ["## Spoofed-request amplification (compatible mode: `serve --app http --crypt none`)", "",
          "Each spoofed source (a socket on 127.0.0.2 that never answers) sends ONE KCP PUSH carrying "
          "`GET /plaintext HTTP/1.1`; the ratio is the UDP payload bytes it then receives over the bytes it sent "
          "(server's own bytesOut/bytesIn alongside; the limit is 3).", "",
          "| FEC | sources | seconds | bytes sent | bytes received | datagrams received | ratio | with IP/UDP headers | server bytesOut/bytesIn | amplificationLimited | unprovenTimeouts | sessions validated |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in amp:
        k = r["kcp"]
        o.append(f"| {r['fec']} | {r['sources']} | {r['seconds']:g} | {r['bytes_sent']} | {r['bytes_received']} | {r['datagrams_received']} | "
                 f"**{r['ratio']}** | {r['ratio_with_ip_udp_headers']} | {r['server_ratio']} | {k['amplificationLimited']} | {k['unprovenTimeouts']} | {k['sessionsValidated']} |")
    o.append("")
aead = [r for r in rows if r["case"] == "amplification" and r.get("mode", "none") != "none"]
if aead:
    o += ["## Spoofed-datagram amplification (AEAD modes with address validation: `serve --app http --crypt MODE`)", "",
          "A real HTTP/1.1 client (`benchmarks/attack/httpget.cs`, `GET /plaintext` over KCP) is run through a capturing "
          "forwarder (`benchmarks/attack/capture.py`) against another serve with the same key; then each spoofed source "
          "(a socket on 127.0.0.2 that never answers) sends ONE of its sealed datagrams to a fresh `serve` and counts "
          "what comes back. *probe*: the dial's token-less TOKEN; *token*: the TOKEN echoing the RETRY's token (valid "
          "for the client's address and port only); *request*: the datagram carrying the HTTP request. "
          "The limit is 1; server bytesOut/bytesIn is over all three kinds.", "",
          "| mode | datagram | sources | seconds | bytes sent | bytes received | datagrams received | ratio | with IP/UDP headers | server bytesOut/bytesIn | sessions | drops by reason |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in aead:
        k = r["kcp"]
        o.append(f"| {r['mode']} | {r['kind']} | {r['sources']} | {r['seconds']:g} | {r['bytes_sent']} | {r['bytes_received']} | {r['datagrams_received']} | "
                 f"**{r['ratio']}** | {r['ratio_with_ip_udp_headers']} | {r['server_ratio']} | {k['sessionsAccepted']} | {drops(k)} |")
    o.append("")
forged = [r for r in rows if r["case"] == "forged"]
if forged:
    gcm = next((r["ns_per_datagram"] for r in forged if r["mode"] == "aes-256-gcm"), None)
    o += [f"## Forged datagrams at a live listener ({forged[0]['size']} bytes, random, FEC 10/3)", "",
          "Server CPU (user+system, /proc) during the flood over the datagrams it received. Whole-server cost: "
          "receive syscalls, demultiplexing and the drop included, not only the cipher.", "",
          "| mode | received | server CPU s | ns per datagram | × aes-256-gcm | sessions | drops by reason |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in forged:
        x = f"{r['ns_per_datagram'] / gcm:.2f}" if gcm and r["ns_per_datagram"] else "-"
        d = ", ".join(f"{k} {v}" for k, v in r["dropped"].items()) or "-"
        o.append(f"| {r['mode']} | {r['received']} | {r['server_cpu_s']:.2f} | {r['ns_per_datagram']} | {x} | {r['sessions']} | {d} |")
    o.append("")
bind = [r for r in rows if r["case"] == "double-bind"]
if bind:
    o += ["## Double bind", "", "| port taken | exit code | refused | message |", "|---|---:|---|---|"]
    for r in bind:
        if "exit_code" in r:
            o.append(f"| {r['taken']} | {r['exit_code']} | {r['refused']} | `{r['message']}` |")
        else:
            o += ["", f"The first server still serves afterwards: echo bench ok = {r['ok']}."]
    o.append("")
replay = [r for r in rows if r["case"] == "replay"]
if replay:
    o += [f"## Replay of captured AEAD datagrams from {replay[0]['ports']} source ports", "",
          "A real HTTP/1.1 client (`httpget.cs`: 4 × `GET /plaintext`, 300 ms apart, over one KCP session) runs through "
          "`capture.py` against `serve --app http --crypt MODE`. Every datagram it sent (the dial's probe, the TOKEN "
          "carrying its valid address token, the requests, acks and FEC parity) is then resent once from each of "
          f"{replay[0]['ports']} new sockets (port 0 on {', '.join(replay[0]['bind_ips'])}), within the token's "
          "lifetime; the sockets never answer and count what they receive for 3 s more. Mid-session, the capture's own "
          "upstream socket (the address the server knows) also resends everything the client had sent so far. "
          "Sessions opened by replays = the serve's sessionsAccepted minus the real client's.", "",
          "| mode | datagrams replayed | bytes sent | sessions opened by replays | bytes received | datagrams received | sockets answered | ratio | drops by reason | own-port replays | of them dropped as replay | real client ok |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for r in replay:
        k = r["kcp"]
        o.append(f"| {r['mode']} | {r['datagrams_sent']} ({r['captured_datagrams']} × {r['ports']}) | {r['bytes_sent']} | **{r['sessions_opened_by_replays']}** | "
                 f"{r['bytes_received']} | {r['datagrams_received']} | {r['sockets_answered']} | **{r['ratio']}** | {drops(k)} | "
                 f"{r['own_port']['datagrams']} | {k['replaysDropped']} | {r['client']['ok']} |")
    o += ["", "Replies to the replays are RETRYs (72 bytes, carrying a token for the replaying socket, to datagrams of at "
          "least 72 bytes; rate-limited like new sessions, hence not every socket is answered); acks and smaller datagrams "
          "get nothing (`no_session`). The own-port replays that are not counted `replay` are the dial's token-less probe: "
          "its nonce was seen before the session existed, so the session's window has no record of it, and a repeat of "
          "the probe that opened a session is answered with a window update, by design (docs/address-validation.md); "
          "it opens nothing and reaches no app.", ""]
dial = [r for r in rows if r["case"] == "dial" and "client" in r]
if dial:
    o += ["## Dial time with and without address validation (aes-256-gcm)", "",
          "Two serves (`--app echo --crypt aes-256-gcm`, `--address-validation true` and `false`; the client's flag "
          "matching). *fresh process*: one `kcpkestrel bench --workload pingpong --count 1` process per dial, its "
          "`connect_ms` (the first dial of a process: JIT, key derivation and the I/O loop's start included); "
          "*warm, one process*: `benchmarks/attack/dialtime.cs` dials each serve in turn in one process (a fresh KCP "
          "session on a fresh port each time, after one discarded warm-up dial). Dials with and without validation "
          "alternate, so both see the same machine.", "",
          "| client | address validation | dials | ok | p50 ms | p90 ms | min ms | max ms |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in dial:
        o.append(f"| {r['client']} | {r['address_validation']} | {r['dials']} | {r['ok']} | **{r['p50_ms']}** | {r['p90_ms']} | {r['min_ms']} | {r['max_ms']} |")
    o.append("")
    for client in dict.fromkeys(r["client"] for r in dial):
        on = next((r for r in dial if r["client"] == client and r["address_validation"]), None)
        off = next((r for r in dial if r["client"] == client and not r["address_validation"]), None)
        if on and off:
            # Dial i with and without validation ran back to back: the median of those paired differences.
            pairs = sorted(a - b for a, b in zip(on["connect_ms"], off["connect_ms"]) if a is not None and b is not None)
            paired = (pairs[(len(pairs) - 1) // 2] + pairs[len(pairs) // 2]) / 2 if pairs else float("nan")
            o.append(f"- {client}: validation on − off = **{on['p50_ms'] - off['p50_ms']:+.3f} ms** at p50, "
                     f"{on['p90_ms'] - off['p90_ms']:+.3f} ms at p90; median of the {len(pairs)} back-to-back pairs' differences {paired:+.3f} ms.")
    o += ["", "The exchange itself is one more loopback round trip (the RETRY, then the TOKEN echoing it) and one HMAC; "
          "on shared cores, scheduling noise can be larger than that. The in-process measurement (a test): "
          "`dotnet test tests/KcpKestrel.Transport.Kcp.Tests -c Release --filter DialTime`.", ""]
hostile = [r for r in rows if r["case"] == "hostile"]
if hostile:
    o += ["## Hostile sessions against the receive budget (`serve --app sink --crypt none`, FEC 10/3)", "",
          f"{hostile[0]['sessions']} sessions, each sending sn 1..{hostile[0]['segments_per_session']} (never 0, so nothing can be "
          f"delivered) as partial FEC groups of {hostile[0]['shapes']} different shapes; each would pin "
          f"{hostile[0]['bytes_each_would_hold'] / 1048576:.1f} MiB of segments without a budget. Server RSS from /proc (VmRSS before, "
          "VmHWM peak, VmRSS 3 s after); held = the listener's receive-held bytes at their peak (stop line receiveBytesPeak).", "",
          "| listener budget | datagrams in | RSS before MiB | RSS peak MiB | RSS after MiB | held peak MiB | sessions | closed for memory | drops by reason |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in hostile:
        drops = ", ".join(f"{k} {v}" for k, v in r["dropped"].items()) or "-"
        o.append(f"| {r['budget']} | {r['datagrams_in']} | {r['rss_before_mib']} | **{r['rss_peak_mib']}** | {r['rss_after_mib']} | "
                 f"{r['held_peak_mib']} | {r['sessions']} | {r['closed_for_memory']} | {drops} |")
    o.append("")
o += ["## Raw measurements", "", "```"] + [json.dumps(r, separators=(",", ":")) for r in rows] + ["```", ""]
open(sys.argv[2], "w").write("\n".join(o) + kept)
PY
log "wrote $OUT"
