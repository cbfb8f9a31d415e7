#!/usr/bin/env bash
# First transfer: how fast a fresh process runs, per code-generation setting (benchmarks/results/first-transfer.md).
#   first-transfer.sh OUT REPS VARIANT...     VARIANT = name|cli-output-dir|ENV=V,ENV2=V (env may be empty)
# Per variant and repetition, every process fresh: `demo` (its table saved as OUT.demo-NAME-REP); a fresh server
# and a fresh client's first 64 B round trip (time to ready line, client wall time, connect, first RTT); a fresh
# client's 32 MiB KCP echo (FEC 10/3 + aes, fast3) against that server, and its server's CPU ticks; a 32 MiB TCP echo.
# Holds the machine-wide benchmark lock for the whole sitting.
set -u
. "$(dirname "$0")/../lib.sh"
OUT=$1; REPS=$2; shift 2
bench_lock
bench_workdir first-transfer
K=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
for rep in $(seq 1 "$REPS"); do
  for v in "$@"; do
    IFS='|' read -r name dir envs <<<"$v"
    run() { env ${envs//,/ } "$dir/KcpKestrel.Cli" "$@"; }
    t0=$(date +%s%N)
    run demo >"$OUT.demo-$name-$rep" 2>&1
    echo "$rep $name demo wall_ms=$(ms_since "$t0") ok=$(grep -c 'all checks passed' "$OUT.demo-$name-$rep")" | tee -a "$OUT"

    rm -f "$WORK/in" "$WORK/srv.out"; mkfifo "$WORK/in"
    t0=$(date +%s%N)
    run serve --kcp 127.0.0.1:0 --tcp 127.0.0.1:0 --app echo "${K[@]}" <"$WORK/in" >"$WORK/srv.out" 2>/dev/null &
    sp=$!; exec 9>"$WORK/in"; track_pid "$sp"
    for _ in $(seq 1 500); do [[ -s "$WORK/srv.out" ]] && break; sleep 0.02; done
    ready=$(ms_since "$t0")
    line=$(head -n1 "$WORK/srv.out")
    kaddr=$(grep -o 'kcp=[^ ]*' <<<"$line" | cut -d= -f2); taddr=$(grep -o 'tcp=[^ ]*' <<<"$line" | cut -d= -f2)
    t0=$(date +%s%N)
    l=$(run bench --kcp "$kaddr" --workload pingpong --count 1 --size 64 "${K[@]}" 2>/dev/null | tail -n1)
    echo "$rep $name first serve_ready_ms=$ready client_wall_ms=$(ms_since "$t0") connect_ms=$(jq -r .connect_ms <<<"$l") rtt_us=$(jq -r .rtt_p50_us <<<"$l") ok=$(jq -r .ok <<<"$l")" | tee -a "$OUT"
    l=$(run bench --kcp "$kaddr" --workload echo --bytes 32M "${K[@]}" 2>/dev/null | tail -n1)
    echo "$rep $name echo32M mbps=$(jq -r .mb_per_s <<<"$l") retx=$(jq -r .retransmits <<<"$l") ok=$(jq -r .ok <<<"$l") server_cpu_ticks=$(cpu_ticks "$sp")" | tee -a "$OUT"
    l=$(run bench --tcp "$taddr" --workload echo --bytes 32M 2>/dev/null | tail -n1)
    echo "$rep $name tcpecho32M mbps=$(jq -r .mb_per_s <<<"$l") ok=$(jq -r .ok <<<"$l")" | tee -a "$OUT"
    exec 9>&-; kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
  done
done
