# shellcheck shell=bash
# run.sh's report: the generated section of BENCHMARKS.md, between the markers below; what is outside them (other
# issues' sections, written by hand) stays as it is. Sourced by run.sh after its cases, with ROWS and COMMANDS set.

BEGIN_MARK='<!-- run.sh: generated from here -->'
END_MARK='<!-- run.sh: generated to here -->'

benchmarks_section() {
  echo "$BEGIN_MARK"
  echo "# KcpKestrel vs kcp-go: side by side"
  echo
  echo "Produced by \`benchmarks/compare/run.sh\` on $STARTED_AT ($((MAIN_SECONDS / 60)) min for this table). One machine, one sitting, loopback."
  echo
  echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(go version | awk '{print $3}')"
  echo "- Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); treat absolute figures as indicative, the ratios as the point."
  echo "- Each case $REPS times, medians; a \`*\` marks a median over fewer runs because some failed. Every client is a fresh process; servers (and relays) are warmed by one discarded transfer or run first, on both sides alike."
  echo "- Ours: \`kcpkestrel serve\` + \`kcpkestrel bench\`. Theirs: kcp-go 5.6.1 (Debian), \`tests/GoPeer\` server + client. Same KCP settings: nodelay 1, interval 10, resend 2, nc 1 (our \`--mode fast3\`), windows 1024/1024, mtu 1350, stream mode. \`--cc Bbr\` rows are ours with pacing and the rate-based controller; kcp-go has none, so they are set against the same kcp-go figure."
  echo "- Goal column: issue #17's goals, computed from the ratio (or, for retransmissions, from our share)."
  echo "- Retransmits: the client's retransmitted segments (fast + early + timeout; kcp-go's RetransSegs), and in brackets their share of the data segments it sent (bytes / mss first transmissions + retransmissions; mss $MSS_PLAIN plain, $MSS_SECURE with FEC), ours / kcp-go."
  echo
  echo "| case | ours | kcp-go | ours / kcp-go | goal | retransmits: ours / kcp-go |"
  echo "|---|---:|---:|---:|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "## Notes"
  echo
  echo "- Sessions: $SESSIONS sessions x $SESSION_RATE msg/s x ${SESSION_SECONDS} s, server pinned to core 0 and our client to core 1 (the Go peer has no sessions workload, so our client drives both servers). One client process on the other core cannot offer 5,000 x 10 msg/s, so the rate is 2 msg/s per session. kcp-go's server ticks every session every interval (10 ms), idle or not; ours wakes a session only when it has something to do. The CPU rows include the dial phase."
  echo "- Relays: \`kcpkestrel relay\` (ours, user-space, seeded) and \`benchmarks/compare/relay/relay.go\` (written apart from ours, standard library only), each in front of either server; loss and delay apply to each direction."
  echo "- The demo row is \`kcpkestrel demo\` as a user first runs it: one fresh process, KCP (FEC 10/3 + aes) and TCP echo 4 MiB each on loopback."
  echo "- The UDP ceiling is one sender and one receiver thread on loopback (sendmmsg/recvmmsg, 64 datagrams per call)."
  echo
  echo "## Lossy links and requests larger than one segment"
  echo
  local f
  for f in "$SIZES_OUT" "$LOSSY_OUT"; do
    if [[ -f "$f" ]]; then
      echo "[benchmarks/results/${f##*/}](benchmarks/results/${f##*/}): $(sed -n 's/^Produced by \(.*\)$/\1/p' "$f" | head -1)"
      echo
      grep '^- \*\*Goal' "$f" || true
      echo
    fi
  done
  echo "## Commands"
  echo
  printf -- '- `%s`\n' "${COMMANDS[@]}"
  echo
  echo "Run again: \`benchmarks/compare/run.sh\` (settings: REPS=$REPS ECHO=$ECHO BULK=$BULK LOSSY_BULK=$LOSSY_BULK WARM=$WARM PINGS=$PINGS SESSIONS=$SESSIONS SESSION_RATE=$SESSION_RATE SESSION_SECONDS=$SESSION_SECONDS RELAY_DELAY=$RELAY_DELAY RELAY_LOSSES=\"$RELAY_LOSSES\" CCS=\"$CCS\" DEMO_REPS=$DEMO_REPS BLAST_SECONDS=$BLAST_SECONDS)."
  echo
  echo "Other areas' tables: [benchmarks/results/](benchmarks/results/)."
  echo "$END_MARK"
}

# write_benchmarks_md: replaces the generated section of OUT (or puts it first when OUT has none yet).
write_benchmarks_md() {
  local section="$WORK/section.md"
  benchmarks_section >"$section"
  if [[ -f "$OUT" ]] && grep -qF "$BEGIN_MARK" "$OUT"; then
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v f="$section" '
      $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$OUT" >"$WORK/out.md"
  else
    { cat "$section"; [[ -f "$OUT" ]] && { echo; cat "$OUT"; }; } >"$WORK/out.md"
  fi
  cp "$WORK/out.md" "$OUT"
}
