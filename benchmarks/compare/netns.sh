# shellcheck shell=bash
# A pair of network namespaces joined by a veth link, with kernel-side loss and an optional bottleneck, for
# measuring KCP and TCP over a link where the loss happens in the kernel rather than in a relay of ours.
# Source it (after lib.sh), then:
#
#   netns_up LOSS_PERCENT [RATE_MBIT]   # e.g. netns_up 5 50: 5% random loss each way, 50 Mbit/s tbf each way
#   netns_client CMD...                 # runs CMD in the client namespace (address $NETNS_CLIENT_ADDR)
#   netns_server CMD...                 # runs CMD in the server namespace (address $NETNS_SERVER_ADDR)
#   netns_impair LOSS_PERCENT [RATE_MBIT] # changes loss and bottleneck in place (running processes stay)
#   netns_down                          # also runs on exit
#
# Loss is an nftables `numgen random` drop on each side's *input* hook, so every packet (UDP and TCP alike) is lost
# as a network would lose it: a drop on the output hook would make sendto fail with EPERM instead. `tc netem` is not
# available on these kernels, so there is no added delay; the bottleneck is `tc qdisc tbf` on each side's egress.
# Needs root, iproute2 and nftables. Only the two namespaces' own addresses are used.

NETNS_TAG=${NETNS_TAG:-kkb$$}
NETNS_CLIENT=$NETNS_TAG-c
NETNS_SERVER=$NETNS_TAG-s
NETNS_CLIENT_ADDR=10.203.0.1
NETNS_SERVER_ADDR=10.203.0.2
NETNS_ACTIVE=0

netns_client() { ip netns exec "$NETNS_CLIENT" "$@"; }
netns_server() { ip netns exec "$NETNS_SERVER" "$@"; }

netns_down() {
  ((NETNS_ACTIVE)) || return 0
  ip netns del "$NETNS_CLIENT" 2>/dev/null || true
  ip netns del "$NETNS_SERVER" 2>/dev/null || true
  NETNS_ACTIVE=0
}

# netns_side NS DEVICE ADDRESS LOSS_PERCENT RATE_MBIT: configures one end.
netns_side() {
  local ns=$1 dev=$2 addr=$3 loss=$4 rate=$5
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev "$dev"
  ip -n "$ns" link set "$dev" up
  netns_impair_side "$ns" "$dev" "$loss" "$rate"
}

# netns_impair_side NS DEVICE LOSS_PERCENT RATE_MBIT: sets one end's loss rule and bottleneck, replacing any before.
netns_impair_side() {
  local ns=$1 dev=$2 loss=$3 rate=$4
  ip netns exec "$ns" nft delete table inet kkbloss 2>/dev/null || true
  tc -n "$ns" qdisc del dev "$dev" root 2>/dev/null || true
  local per10k
  per10k=$(awk -v l="$loss" 'BEGIN { printf "%d", l * 100 + 0.5 }')
  if ((per10k > 0)); then
    ip netns exec "$ns" nft -f - <<NFT
table inet kkbloss {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "$dev" numgen random mod 10000 < $per10k counter drop
  }
}
NFT
  fi
  if [[ -n "$rate" && "$rate" != 0 ]]; then
    # burst: a few ms of the rate (at least 32 KB); latency: how long a packet may queue before tbf drops it.
    ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "${rate}mbit" burst 64kb latency 50ms
  fi
}

# netns_impair LOSS_PERCENT [RATE_MBIT]: changes the loss and bottleneck of the pair netns_up made, both ways, while
# processes in it keep running (so servers stay warm across link settings).
netns_impair() {
  netns_impair_side "$NETNS_CLIENT" kkbc "${1:-0}" "${2:-0}"
  netns_impair_side "$NETNS_SERVER" kkbs "${1:-0}" "${2:-0}"
}

netns_up() {
  local loss=${1:-0} rate=${2:-0}
  [[ $(id -u) == 0 ]] || { echo "netns_up needs root" >&2; return 1; }
  command -v nft >/dev/null || { echo "nft is not installed (Debian: apt-get install nftables)" >&2; return 1; }
  netns_down
  ip netns add "$NETNS_CLIENT"
  ip netns add "$NETNS_SERVER"
  NETNS_ACTIVE=1
  ip link add kkbc netns "$NETNS_CLIENT" type veth peer name kkbs netns "$NETNS_SERVER"
  netns_side "$NETNS_CLIENT" kkbc "$NETNS_CLIENT_ADDR" "$loss" "$rate"
  netns_side "$NETNS_SERVER" kkbs "$NETNS_SERVER_ADDR" "$loss" "$rate"
}

# netns_drops: packets dropped by the loss rules so far, "client server".
netns_drops() {
  local c s
  # No table (0% loss) is 0 drops, not a failure: under set -e and pipefail that would end the caller.
  c=$(ip netns exec "$NETNS_CLIENT" nft list table inet kkbloss 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}') || true
  s=$(ip netns exec "$NETNS_SERVER" nft list table inet kkbloss 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}') || true
  echo "${c:-0} ${s:-0}"
  return 0
}

trap 'netns_down; bench_cleanup' EXIT
