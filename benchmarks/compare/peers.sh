# shellcheck shell=bash
# What the side-by-side scripts (run.sh, sizes.sh, lossy-links.sh) share: building both stacks, starting servers and
# relays, repeating a client and reading medians out of its JSON lines, ratios and goal marks.
# Source it after lib.sh and bench_workdir.

# KCP settings of every case: the Go peer's (nodelay 1, interval 10, resend 2, nc 1, windows 1024, mtu 1350);
# kcpkestrel's --mode fast3 is exactly that quartet.
PLAIN_OURS=(--mode fast3 --crypt none --datashard 0 --parityshard 0)
PLAIN_GO=(-crypt none -datashard 0 -parityshard 0)
SECURE_OURS=(--mode fast3 --crypt aes --key bench --datashard 10 --parityshard 3)
SECURE_GO=(-crypt aes -key bench -datashard 10 -parityshard 3)
# KCP's mss at mtu 1350 (both stacks alike): 1350 - 24 (KCP header) - 20 (nonce + CRC of any cipher, "none" too)
# - 8 (FEC header, when on). A stream of B bytes is B / mss first transmissions.
MSS_PLAIN=1306
MSS_SECURE=1298

# Where servers listen and clients dial (lossy-links.sh moves both into namespaces), and what runs each side.
SERVER_HOST=${SERVER_HOST:-127.0.0.1}
SERVER_PREFIX=()
CLIENT_PREFIX=()

# peers_build: builds kcpkestrel (Release), the kcp-go peer and the independent Go relay; sets OURS, PEER, GO_RELAY
# and exports PEERS_BUILT, so a script run.sh starts (inside its lock) reuses them instead of building again.
peers_build() {
  command -v jq >/dev/null || { echo "jq is not on PATH (apt-get install jq)" >&2; exit 1; }
  OURS="dotnet $ROOT/src/KcpKestrel.Cli/bin/Release/net10.0/KcpKestrel.Cli.dll"
  if [[ -n ${PEERS_BUILT:-} ]]; then
    PEER=${PEERS_BUILT%%:*}; GO_RELAY=${PEERS_BUILT#*:}
    return
  fi
  log "building kcpkestrel (Release), the kcp-go peer and the Go relay"
  dotnet build "$ROOT/src/KcpKestrel.Cli" -c Release -v q -nologo >/dev/null
  build_go_peer "$WORK/kcppeer"
  build_go_relay "$WORK/gorelay"
  PEER="$WORK/kcppeer"
  GO_RELAY="$WORK/gorelay"
  export PEERS_BUILT="$PEER:$GO_RELAY"
}

# start_ours APP FLAGS...: a kcpkestrel serve with KCP (and TCP) on SERVER_HOST; sets OURS_PID/FD, OURS_ADDR, OURS_TCP.
start_ours() {
  local app=$1; shift
  start_with_stdin "ours-$app-$RANDOM" "${SERVER_PREFIX[@]}" $OURS serve --kcp "$SERVER_HOST:0" --tcp "$SERVER_HOST:0" --app "$app" "$@"
  OURS_PID=$STARTED_PID; OURS_FD=$STARTED_FD
  OURS_ADDR=$(grep -o 'kcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
  OURS_TCP=$(grep -o 'tcp=[^ ]*' <<<"$STARTED_LINE" | cut -d= -f2)
}
stop_ours() { stop_started "$OURS_PID" "$OURS_FD"; }

# start_go APP FLAGS...: a kcp-go peer server; sets GO_PID/FD, GO_ADDR.
start_go() {
  local app=$1; shift
  start_with_stdin "go-$app-$RANDOM" "${SERVER_PREFIX[@]}" "$PEER" -mode server -listen "$SERVER_HOST:0" -app "$app" "$@"
  GO_PID=$STARTED_PID; GO_FD=$STARTED_FD
  GO_ADDR=${STARTED_LINE#listening }
}
stop_go() { stop_started "$GO_PID" "$GO_FD"; }

# start_relay ours|go TARGET LOSS DELAY_MS: a lossy relay on loopback in front of TARGET (loss and delay each way,
# seeded); sets RELAY_PID/FD, RELAY_ADDR. "ours" is kcpkestrel relay, "go" the independent one (relay/relay.go).
start_relay() {
  local kind=$1 target=$2 loss=$3 delay=$4
  if [[ $kind == ours ]]; then
    start_with_stdin "relay-$RANDOM" $OURS relay --listen 127.0.0.1:0 --target "$target" --loss "$loss" --delay "$delay" --seed 7
  else
    start_with_stdin "gorelay-$RANDOM" "$GO_RELAY" -listen 127.0.0.1:0 -target "$target" -loss "$loss" -delay "${delay}ms" -seed 7
  fi
  RELAY_PID=$STARTED_PID; RELAY_FD=$STARTED_FD
  RELAY_ADDR=$(awk '{print $2}' <<<"$STARTED_LINE")
}
stop_relay() { stop_started "$RELAY_PID" "$RELAY_FD"; }

# ours_client ARGS... / go_client ARGS...: one fresh client process (in CLIENT_PREFIX's namespace, if any).
ours_client() { "${CLIENT_PREFIX[@]}" $OURS bench "$@"; }
go_client() { "${CLIENT_PREFIX[@]}" "$PEER" -mode client "$@"; }

# warm_ours ADDR echo|bulk FLAGS / warm_go ADDR echo|bulk FLAGS: one discarded WARM-byte transfer of the server's
# workload (echo to an echo server, bulk to a sink), so the timed runs measure a warmed-up server (a long-running
# .NET server has compiled its hot paths, a fresh one has not).
warm_ours() { local addr=$1 workload=$2; shift 2; ours_client --kcp "$addr" --workload "$workload" --bytes "$WARM" --timeout 60 "$@" >/dev/null 2>&1 || true; }
warm_go() { local addr=$1 workload=$2; shift 2; go_client -target "$addr" -workload "$workload" -bytes "$(bytes_of "$WARM")" -timeout 60s "$@" >/dev/null 2>&1 || true; }

# bytes_of 16M: the byte count of a size with an optional K/M/G suffix.
bytes_of() { numfmt --from=iec "$1"; }

# run_reps FILE CMD...: runs CMD REPS times (a fresh process each), appends the last line of each successful run (a
# JSON object with "ok": true) to FILE and counts the failures in FILE.fail.
run_reps() {
  local file=$1; shift
  : >>"$file"
  for _ in $(seq 1 "$REPS"); do
    local line
    line=$("$@" 2>>"$WORK/clients.err" | tail -n1 || true)
    if [[ "$(jq -r '.ok' <<<"$line" 2>/dev/null)" == "true" ]]; then
      echo "$line" >>"$file"
    else
      echo "FAILED: $* -> $line" >&2
      echo x >>"$file.fail"
    fi
  done
}

# med FILE JQ [DECIMALS]: the median over FILE's runs of the jq expression (e.g. .mb_per_s), "fail" when none ran,
# marked "*" when some failed.
med() {
  local file=$1 expr=$2 decimals=${3:-1} m
  if [[ ! -s "$file" ]]; then echo "fail"; return; fi
  m=$(median $(jq -r "$expr" "$file") | awk -v d="$decimals" '{printf "%.*f", d, $1}')
  [[ -s "$file.fail" ]] && echo "${m}*" || echo "$m"
}

# retrans FILE MSS: "N (P%)": median retransmitted segments and their median share of the data segments the client
# sent (its bytes / MSS first transmissions plus the retransmissions).
retrans() {
  local file=$1 mss=$2
  [[ -s "$file" ]] || { echo "-"; return; }
  echo "$(med "$file" .retransmits 0) ($(med "$file" "100 * .retransmits / (.bytes / $mss + .retransmits)" 2)%)"
}

# ratio A B: A / B to two decimals, "-" when either is missing.
ratio() { awk -v a="${1%\*}" -v b="${2%\*}" 'BEGIN { if (b+0 == 0 || a == "fail" || b == "fail" || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }

# goal VALUE OP LIMIT: "met" / "not met" for VALUE OP LIMIT (OP is >= or <=), "-" when VALUE is missing.
goal() {
  awk -v v="${1%\*}" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "-" || v == "fail" || v == "") { print "-"; exit }
    ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
    print (ok ? "**met**" : "not met") }'
}
