#!/usr/bin/env bash
# KCP against TCP where KCP is meant to win (issue #17): a namespace pair joined by veth (netns.sh) with kernel-side
# random loss each way (nftables, input hook) at 0, 1, 5 and 10%, with and without a 50 Mbit/s tbf bottleneck each
# way. Per link: 64 B ping-pong latency, HTTP/1.1 request latency (GET /plaintext), gRPC unary call latency (an echo
# of NS_GRPC_SIZE bytes over h2c) and bulk throughput to a sink, over KCP (ours and kcp-go, FEC 10/3 + aes, fast3)
# and over TCP (Kestrel's sockets transport, the same serve process).
# Writes benchmarks/results/lossy-links.md. Needs root, iproute2 and nftables. run.sh runs it in its sitting; alone it
# takes the benchmark lock itself.
#
#   benchmarks/compare/lossy-links.sh           # about 10 minutes
#   QUICK=1 benchmarks/compare/lossy-links.sh   # 0 and 5% loss, small counts
#
# Knobs: NS_LOSSES ("0 1 5 10", percent), NS_RATES ("0 50", Mbit/s, 0 = none), NS_PINGS (1000), NS_REQUESTS (1000,
# HTTP requests and gRPC calls), NS_CONCURRENCY (4), NS_GRPC_SIZE (1024 bytes), NS_BULK (8M), NS_REPS (1),
# NS_TIMEOUT (120 s per client run), LOSSY_OUT.
# gRPC: kcpkestrel serve --app grpc / bench --workload grpc; kcp-go's column is tests/GoPeer built with -tags grpc,
# which needs Debian's golang-google-grpc-dev (grpc-go 1.33, no protoc): without it that column says n/a.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
if [[ ${QUICK:-0} == 1 ]]; then
  : "${NS_LOSSES:=0 5}" "${NS_PINGS:=200}" "${NS_REQUESTS:=200}" "${NS_BULK:=2M}"
fi
NS_LOSSES=${NS_LOSSES:-0 1 5 10}
NS_RATES=${NS_RATES:-0 50}
NS_PINGS=${NS_PINGS:-1000}
NS_REQUESTS=${NS_REQUESTS:-1000}
NS_CONCURRENCY=${NS_CONCURRENCY:-4}
NS_GRPC_SIZE=${NS_GRPC_SIZE:-1024}
NS_BULK=${NS_BULK:-8M}
NS_TIMEOUT=${NS_TIMEOUT:-120}
REPS=${NS_REPS:-1}
WARM=${WARM:-4M}
LOSSY_OUT=${LOSSY_OUT:-$ROOT/benchmarks/results/lossy-links.md}
bench_workdir kcplinks
. "$HERE/peers.sh"
. "$HERE/netns.sh"

peers_build
bench_lock
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0

netns_up 0 0
SERVER_HOST=$NETNS_SERVER_ADDR
SERVER_PREFIX=(ip netns exec "$NETNS_SERVER")
CLIENT_PREFIX=(ip netns exec "$NETNS_CLIENT")
O=("${SECURE_OURS[@]}")
G=("${SECURE_GO[@]}")

# Eight servers for the whole run, warmed once on the clean link; netns_impair then changes the link under them.
declare -A KCP_OURS TCP_OURS KCP_GO
GO_GRPC=0
GRPC_GO_VERSION=$(dpkg-query -W -f='${Version}' golang-google-grpc-dev 2>/dev/null || echo "not installed")
if go_peer_has_grpc; then GO_GRPC=1; fi
for app in echo sink http grpc; do
  start_ours "$app" "${O[@]}" --tcp-engine sockets
  KCP_OURS[$app]=$OURS_ADDR; TCP_OURS[$app]=$OURS_TCP
  if [[ $app != grpc ]] || ((GO_GRPC)); then
    start_go "$app" "${G[@]}"
    KCP_GO[$app]=$GO_ADDR
  fi
done
log "warming the servers"
warm_ours "${KCP_OURS[sink]}" bulk "${O[@]}"
ours_client --tcp "${TCP_OURS[sink]}" --workload bulk --bytes "$WARM" >/dev/null 2>&1 || true
warm_go "${KCP_GO[sink]}" bulk "${G[@]}"
{
  ours_client --kcp "${KCP_OURS[echo]}" --workload pingpong --count 500 "${O[@]}"
  ours_client --tcp "${TCP_OURS[echo]}" --workload pingpong --count 500
  ours_client --kcp "${KCP_OURS[http]}" --workload http --count 500 --concurrency "$NS_CONCURRENCY" "${O[@]}"
  ours_client --tcp "${TCP_OURS[http]}" --workload http --count 500 --concurrency "$NS_CONCURRENCY"
  ours_client --kcp "${KCP_OURS[grpc]}" --workload grpc --count 500 --size "$NS_GRPC_SIZE" --concurrency "$NS_CONCURRENCY" "${O[@]}"
  ours_client --tcp "${TCP_OURS[grpc]}" --workload grpc --count 500 --size "$NS_GRPC_SIZE" --concurrency "$NS_CONCURRENCY"
  if ((GO_GRPC)); then go_client -target "${KCP_GO[grpc]}" -workload grpc -count 500 -size "$NS_GRPC_SIZE" -concurrency "$NS_CONCURRENCY" "${G[@]}"; fi
} >/dev/null 2>&1 || true

# ms FILE FIELD: the median of a µs field in ms; lat FILE: "p50 / p99 / p99.9" in ms ("n/a" for a cell not run).
ms() { [[ -e "$1" ]] || { echo -; return; }; med "$1" "$2 / 1000" 2; }
lat() { [[ -e "$1" ]] || { echo n/a; return; }; [[ -s "$1" ]] || { echo fail; return; }; echo "$(ms "$1" .rtt_p50_us) / $(ms "$1" .rtt_p99_us) / $(ms "$1" .rtt_p999_us)"; }

# rate_label RATE: how a bottleneck is written after the loss ("" without one).
rate_label() { if [[ $1 != 0 ]]; then echo ", $1 Mbit/s tbf each way"; fi; }

ROWS=()
GOALS=()
for rate in $NS_RATES; do
  for loss in $NS_LOSSES; do
    link="$loss% loss each way$(rate_label "$rate")"
    log "link: $link"
    netns_impair "$loss" "$rate"
    p="$WORK/l$loss-r$rate"
    # Ping-pong, 64 B.
    run_reps "$p-ping-ours" ours_client --kcp "${KCP_OURS[echo]}" --workload pingpong --count "$NS_PINGS" --size 64 --timeout "$NS_TIMEOUT" "${O[@]}"
    run_reps "$p-ping-go" go_client -target "${KCP_GO[echo]}" -workload pingpong -count "$NS_PINGS" -size 64 -timeout "${NS_TIMEOUT}s" "${G[@]}"
    run_reps "$p-ping-tcp" ours_client --tcp "${TCP_OURS[echo]}" --workload pingpong --count "$NS_PINGS" --size 64 --timeout "$NS_TIMEOUT"
    # HTTP/1.1 GET /plaintext, NS_CONCURRENCY callers.
    run_reps "$p-http-ours" ours_client --kcp "${KCP_OURS[http]}" --workload http --count "$NS_REQUESTS" --concurrency "$NS_CONCURRENCY" --timeout "$NS_TIMEOUT" "${O[@]}"
    run_reps "$p-http-go" go_client -target "${KCP_GO[http]}" -workload http -count "$NS_REQUESTS" -concurrency "$NS_CONCURRENCY" -timeout "${NS_TIMEOUT}s" "${G[@]}"
    run_reps "$p-http-tcp" ours_client --tcp "${TCP_OURS[http]}" --workload http --count "$NS_REQUESTS" --concurrency "$NS_CONCURRENCY" --timeout "$NS_TIMEOUT"
    # gRPC unary echo of NS_GRPC_SIZE bytes, NS_CONCURRENCY callers on one channel (one HTTP/2 connection).
    run_reps "$p-grpc-ours" ours_client --kcp "${KCP_OURS[grpc]}" --workload grpc --count "$NS_REQUESTS" --size "$NS_GRPC_SIZE" --concurrency "$NS_CONCURRENCY" --timeout "$NS_TIMEOUT" "${O[@]}"
    if ((GO_GRPC)); then
      run_reps "$p-grpc-go" go_client -target "${KCP_GO[grpc]}" -workload grpc -count "$NS_REQUESTS" -size "$NS_GRPC_SIZE" -concurrency "$NS_CONCURRENCY" -timeout "${NS_TIMEOUT}s" "${G[@]}"
    fi
    run_reps "$p-grpc-tcp" ours_client --tcp "${TCP_OURS[grpc]}" --workload grpc --count "$NS_REQUESTS" --size "$NS_GRPC_SIZE" --concurrency "$NS_CONCURRENCY" --timeout "$NS_TIMEOUT"
    # Bulk to a sink.
    run_reps "$p-bulk-ours" ours_client --kcp "${KCP_OURS[sink]}" --workload bulk --bytes "$NS_BULK" --timeout "$NS_TIMEOUT" "${O[@]}"
    run_reps "$p-bulk-go" go_client -target "${KCP_GO[sink]}" -workload bulk -bytes "$(bytes_of "$NS_BULK")" -timeout "${NS_TIMEOUT}s" "${G[@]}"
    run_reps "$p-bulk-tcp" ours_client --tcp "${TCP_OURS[sink]}" --workload bulk --bytes "$NS_BULK" --timeout "$NS_TIMEOUT"
    drops=$(netns_drops)
    for w in ping http grpc; do
      case $w in
        ping) name="ping-pong 64 B x$NS_PINGS" ;;
        http) name="HTTP GET x$NS_REQUESTS, $NS_CONCURRENCY at once" ;;
        grpc) name="gRPC unary $NS_GRPC_SIZE B x$NS_REQUESTS, $NS_CONCURRENCY at once" ;;
      esac
      o99=$(ms "$p-$w-ours" .rtt_p99_us); g99=$(ms "$p-$w-go" .rtt_p99_us); t99=$(ms "$p-$w-tcp" .rtt_p99_us)
      rg=$(ratio "$o99" "$g99"); rt=$(ratio "$o99" "$t99")
      ROWS+=("| $link | $name: p50 / p99 / p99.9 (ms) | $(lat "$p-$w-ours") | $(lat "$p-$w-go") | $(lat "$p-$w-tcp") | $rg | $rt |")
      if [[ $loss == 5 ]]; then
        GOALS+=("- **Goal** (5% loss$(rate_label "$rate"), $name): our p99 ≤ 0.7× kcp-go's: $(goal "$rg" "<=" 0.7) ($rg); ≤ 0.15× TCP's: $(goal "$rt" "<=" 0.15) ($rt).")
      fi
    done
    ob=$(med "$p-bulk-ours" .mb_per_s); gb=$(med "$p-bulk-go" .mb_per_s); tb=$(med "$p-bulk-tcp" .mb_per_s)
    ROWS+=("| $link | bulk $NS_BULK (MB/s; retransmits ours / kcp-go) | $ob ($(med "$p-bulk-ours" .retransmits 0)) | $gb ($(med "$p-bulk-go" .retransmits 0)) | $tb | $(ratio "$ob" "$gb") | $(ratio "$ob" "$tb") |")
    log "  dropped by the loss rules since this link was set (client side, server side): $drops"
  done
done
netns_impair 0 0

{
  echo "# KCP against TCP on lossy links: ours, kcp-go and Kestrel TCP in a namespace pair"
  echo
  echo "Produced by \`benchmarks/compare/lossy-links.sh\` on $STARTED_AT (${SECONDS}s). $REPS run(s) per cell, medians of the runs' figures."
  echo
  echo "- Link: two network namespaces joined by a veth pair (no added delay: \`tc netem\` is missing on this kernel); random loss each way from an nftables \`numgen random\` drop on each side's input hook, so UDP and TCP lose packets in the kernel alike; the bottleneck is \`tc qdisc tbf\` (burst 64 KB, latency 50 ms) on each side's egress."
  echo "- KCP, both stacks: FEC 10/3 + aes, fast3 (nodelay 1, interval 10, resend 2, nc 1), windows 1024, mtu 1350. Ours: \`kcpkestrel serve --app echo|http|sink\`; kcp-go: \`tests/GoPeer -app echo|http|sink\` (its http app is net/http over kcp-go sessions, its http client net/http with a kcp-go dialer). TCP: Kestrel's sockets transport (\`serve --tcp-engine sockets\`, the same processes as our KCP) and \`kcpkestrel bench --tcp\`."
  echo "- Servers are started once, warmed on the clean link, and kept across the link settings; each client run is a fresh process. HTTP: \`bench --workload http\` (HttpClient, at most $NS_CONCURRENCY connections, each a KCP session or a TCP connection); latency per request."
  echo "- gRPC: unary calls of a $NS_GRPC_SIZE-byte echo over HTTP/2 without TLS (h2c), $NS_CONCURRENCY at once on one channel, so one HTTP/2 connection (one KCP session, or one TCP connection) carries every call; every reply is checked against its request. Ours: \`serve --app grpc\` (Grpc.AspNetCore) and \`bench --workload grpc\` (GrpcChannel with the KCP or TCP handler); kcp-go: \`tests/GoPeer -app grpc\` / \`-workload grpc\` built with \`-tags grpc\` (grpc-go $GRPC_GO_VERSION, a raw codec, no generated code)$( ((GO_GRPC)) || echo '; n/a here: golang-google-grpc-dev is not installed'). In both stacks the first call's latency includes its client's dial, as in the HTTP rows."
  echo "- Ratios are of p99 (latency rows) or of MB/s (bulk rows)."
  echo
  echo "| link | test | ours (KCP) | kcp-go | TCP | ours / kcp-go | ours / TCP |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  printf '%s\n' "${GOALS[@]}"
  echo
  echo "Run again: \`NS_LOSSES=\"$NS_LOSSES\" NS_RATES=\"$NS_RATES\" NS_PINGS=$NS_PINGS NS_REQUESTS=$NS_REQUESTS NS_CONCURRENCY=$NS_CONCURRENCY NS_GRPC_SIZE=$NS_GRPC_SIZE NS_BULK=$NS_BULK NS_REPS=$REPS benchmarks/compare/lossy-links.sh\` (as root)."
} >"$LOSSY_OUT"
log "wrote $LOSSY_OUT (${SECONDS}s)"
