#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to its project's
# PublicAPI.Unshipped.txt, and drops declared symbols that no longer exist (RS0017).
# Review the diff of PublicAPI.*.txt: it is the public API change.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in src/*/PublicAPI.Shipped.txt src/*/PublicAPI.Unshipped.txt; do
  grep -qx '#nullable enable' "$f" 2>/dev/null || { { echo '#nullable enable'; cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"; }
done
log=$(mktemp)
dotnet build -c Release --no-incremental KcpKestrel.sln > "$log" 2>&1 || true
for proj in src/*/; do
  name=$(basename "$proj")
  unshipped="$proj/PublicAPI.Unshipped.txt"
  [ -f "$unshipped" ] || continue
  grep -E "error RS0016: Symbol '.*' is not part of the declared public API.*\[.*/$name/$name.csproj\]" "$log" \
    | sed -E "s/.*Symbol '(.*)' is not part of the declared public API.*/\1/" | sort -u >> "$unshipped" || true
  grep -E "error RS0017: Symbol '.*' is part of the declared API, but is either not public or could not be found.*\[.*/$name/$name.csproj\]" "$log" \
    | sed -E "s/.*Symbol '(.*)' is part of the declared API.*/\1/" | sort -u | while IFS= read -r sym; do
      grep -vxF -- "$sym" "$unshipped" > "$unshipped.tmp" || true; mv "$unshipped.tmp" "$unshipped"; done || true
  { head -n1 "$unshipped"; tail -n +2 "$unshipped" | sort -u; } > "$unshipped.tmp" && mv "$unshipped.tmp" "$unshipped"
done
rm -f "$log"
