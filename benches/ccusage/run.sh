#!/usr/bin/env bash
# costlens against ccusage on the same generated Claude Code log tree.
#
#   benches/ccusage/run.sh [TREE_DIR] [SIZE]      (defaults: target/ccusage-bench/tree, 1G)
#
# Builds costlens (release), generates a deterministic Claude Code tree of about SIZE bytes
# with examples/gen_claude_logs (kept between runs), installs ccusage from npm into a local
# prefix if needed, then times RUNS (default 5) runs of
#   ccusage daily --offline --json --timezone UTC            (CLAUDE_CONFIG_DIR=TREE_DIR)
#   costlens report TREE_DIR --json --period day             cold: empty COSTLENS_CACHE_DIR
#   costlens report TREE_DIR --json --period day             warm: cache filled
# and prints median wall times, their ratios, and compare.py's check of the daily totals
# (to $0.01; days are UTC for both tools).
#
# Environment: RUNS, CCUSAGE_PREFIX (npm prefix, default target/ccusage-bench/npm),
# CCUSAGE_VERSION (default: the newest version that ships a native binary for this platform).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/target/ccusage-bench
TREE=${1:-$WORK/tree}
SIZE=${2:-1G}
RUNS=${RUNS:-5}
PREFIX=${CCUSAGE_PREFIX:-$WORK/npm}
mkdir -p "$WORK"

echo "== building costlens (release)"
(cd "$ROOT" && cargo build --release --quiet --bin costlens --example gen_claude_logs)
COSTLENS=$ROOT/target/release/costlens

if [[ ! -d $TREE/projects || "$(cat "$TREE/.size" 2>/dev/null)" != "$SIZE" ]]; then
  echo "== generating a $SIZE Claude Code tree in $TREE"
  rm -rf "$TREE"
  "$ROOT/target/release/examples/gen_claude_logs" "$TREE" "$SIZE"
  echo "$SIZE" > "$TREE/.size"
fi
BYTES=$(find "$TREE/projects" -type f -name '*.jsonl' -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$TREE/projects" -type f -name '*.jsonl' | wc -l)
echo "   $FILES files, $((BYTES / 1000000)) MB"

# ccusage is a thin node launcher around a native binary shipped in a per-platform package
# (@ccusage/ccusage-<os>-<arch>); the newest launcher is sometimes published before its
# native packages, so install the newest version whose native package exists.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) NATIVE=@ccusage/ccusage-linux-x64 ;;
  Linux-aarch64) NATIVE=@ccusage/ccusage-linux-arm64 ;;
  Darwin-arm64) NATIVE=@ccusage/ccusage-darwin-arm64 ;;
  Darwin-x86_64) NATIVE=@ccusage/ccusage-darwin-x64 ;;
  *) echo "no ccusage native binary for $(uname -s)-$(uname -m)"; exit 1 ;;
esac
CCUSAGE=$PREFIX/node_modules/.bin/ccusage
if [[ ! -x $CCUSAGE || ! -e $PREFIX/node_modules/$NATIVE/bin/ccusage ]]; then
  VERSION=${CCUSAGE_VERSION:-$(npm view "$NATIVE" version 2>/dev/null)}
  echo "== installing ccusage@$VERSION into $PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$PREFIX" "ccusage@$VERSION" >/dev/null
fi
[[ -e $PREFIX/node_modules/$NATIVE/bin/ccusage ]] || { echo "ccusage's native binary is missing"; exit 1; }
echo "   $("$CCUSAGE" --version 2>/dev/null | tail -1)"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Warm the page cache so that both tools read from memory.
find "$TREE/projects" -type f -name '*.jsonl' -exec cat {} + > /dev/null

CACHE=$WORK/costlens-cache
declare -a T_CCU T_COLD T_WARM
echo "== ccusage daily --offline --json ($RUNS runs)"
for i in $(seq "$RUNS"); do
  t0=$(now)
  CLAUDE_CONFIG_DIR=$TREE "$CCUSAGE" daily --offline --json --timezone UTC > "$WORK/ccusage.json"
  T_CCU+=("$(echo "$(now) - $t0" | bc -l)")
done
echo "== costlens report --json --period day, cold cache ($RUNS runs)"
for i in $(seq "$RUNS"); do
  rm -rf "$CACHE"
  t0=$(now)
  COSTLENS_CACHE_DIR=$CACHE "$COSTLENS" report "$TREE" --json --period day > "$WORK/costlens.json"
  T_COLD+=("$(echo "$(now) - $t0" | bc -l)")
done
echo "== costlens report --json --period day, warm cache ($RUNS runs)"
for i in $(seq "$RUNS"); do
  t0=$(now)
  COSTLENS_CACHE_DIR=$CACHE "$COSTLENS" report "$TREE" --json --period day > "$WORK/costlens-warm.json"
  T_WARM+=("$(echo "$(now) - $t0" | bc -l)")
done

M_CCU=$(printf '%s\n' "${T_CCU[@]}" | median)
M_COLD=$(printf '%s\n' "${T_COLD[@]}" | median)
M_WARM=$(printf '%s\n' "${T_WARM[@]}" | median)
MB=$(echo "$BYTES / 1000000" | bc -l)
echo
printf '%-28s %8s %10s   runs\n' "" "median" "MB/s"
printf '%-28s %7.3fs %10.0f   %s\n' "ccusage daily" "$M_CCU" "$(echo "$MB / $M_CCU" | bc -l)" "${T_CCU[*]}"
printf '%-28s %7.3fs %10.0f   %s\n' "costlens report (cold)" "$M_COLD" "$(echo "$MB / $M_COLD" | bc -l)" "${T_COLD[*]}"
printf '%-28s %7.3fs %10.0f   %s\n' "costlens report (warm)" "$M_WARM" "$(echo "$MB / $M_WARM" | bc -l)" "${T_WARM[*]}"
printf 'ccusage / costlens: %.1fx cold, %.1fx warm\n' "$(echo "$M_CCU / $M_COLD" | bc -l)" "$(echo "$M_CCU / $M_WARM" | bc -l)"
echo
python3 "$ROOT/benches/ccusage/compare.py" "$WORK/ccusage.json" "$WORK/costlens.json" "$WORK/costlens-warm.json"
