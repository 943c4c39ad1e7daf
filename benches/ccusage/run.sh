#!/usr/bin/env bash
# costlens against ccusage and tokscale (and grep, the floor) on the same generated Claude Code
# log tree.
#
#   benches/ccusage/run.sh [TREE_DIR] [SIZE]      (defaults: target/ccusage-bench/tree, 1G)
#
# Builds costlens (release), generates a deterministic Claude Code tree of about SIZE bytes
# with examples/gen_claude_logs (kept between runs; SHAPE=small, the default, writes many
# small sessions: `gen_claude_logs --small`; SHAPE=large the earlier shape of fewer, larger
# files), installs ccusage and tokscale from npm into a local prefix if needed, then times RUNS
# (default 5) runs of
#   grep -rc '"usage"' TREE_DIR/projects                      the floor: reading every byte
#   ccusage daily --offline --json --timezone UTC            (CLAUDE_CONFIG_DIR=TREE_DIR)
#   tokscale models --json -c claude --home HOME             (HOME/.claude/projects -> the tree;
#                                                             cold: its cache emptied, and warm)
#   costlens report TREE_DIR --json --period day, in these states:
#     first     empty cache, empty usage history (the first import ever: every request recorded)
#     cold      empty cache, the history already holding the tree (the cache cleared)
#     no-hist   empty cache, --no-history
#     warm      nothing changed since the last report (answered from the answer kept)
#     snapshot  nothing changed, no answer kept for this report (the import snapshot)
#     append    one session file appended to (one line) since the last report (the file is
#               put back to its size after the run)
# and prints median wall times and peak memory (/usr/bin/time %M), the ratios, and the
# totals: compare.py's check of ccusage's daily totals, and tokscale's token and cost totals
# against costlens's.
#
# Environment: RUNS, SHAPE, NPM_PREFIX (default target/ccusage-bench/npm), CCUSAGE_VERSION
# (default 20.0.24), TOKSCALE_PACKAGE (default @tokscale/cli-linux-x64-gnu).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/target/ccusage-bench
TREE=${1:-$WORK/tree}
SIZE=${2:-1G}
RUNS=${RUNS:-5}
SHAPE=${SHAPE:-small}
PREFIX=${NPM_PREFIX:-${CCUSAGE_PREFIX:-$WORK/npm}}
CCUSAGE_VERSION=${CCUSAGE_VERSION:-20.0.24}
TOKSCALE_PACKAGE=${TOKSCALE_PACKAGE:-@tokscale/cli-linux-x64-gnu}
mkdir -p "$WORK"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

echo "== building costlens (release)"
(cd "$ROOT" && cargo build --release --quiet --bin costlens --example gen_claude_logs)
COSTLENS=$TARGET/release/costlens

SHAPE_FLAG=""
[[ $SHAPE == small ]] && SHAPE_FLAG="--small"
if [[ ! -d $TREE/projects || "$(cat "$TREE/.size" 2>/dev/null)" != "$SIZE $SHAPE" ]]; then
  echo "== generating a $SIZE Claude Code tree ($SHAPE sessions) in $TREE"
  rm -rf "$TREE"
  "$TARGET/release/examples/gen_claude_logs" "$TREE" "$SIZE" 2026 $SHAPE_FLAG
  echo "$SIZE $SHAPE" > "$TREE/.size"
fi
BYTES=$(find "$TREE/projects" -type f -name '*.jsonl' -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$TREE/projects" -type f -name '*.jsonl' | wc -l)
echo "   $FILES files, $((BYTES / 1000000)) MB"

# ccusage is a thin node launcher around a native binary shipped in a per-platform package;
# tokscale is a native binary in its own npm package.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) NATIVE=@ccusage/ccusage-linux-x64 ;;
  Linux-aarch64) NATIVE=@ccusage/ccusage-linux-arm64 ;;
  Darwin-arm64) NATIVE=@ccusage/ccusage-darwin-arm64 ;;
  Darwin-x86_64) NATIVE=@ccusage/ccusage-darwin-x64 ;;
  *) echo "no ccusage native binary for $(uname -s)-$(uname -m)"; exit 1 ;;
esac
CCUSAGE=$PREFIX/node_modules/.bin/ccusage
TOKSCALE=$PREFIX/node_modules/$TOKSCALE_PACKAGE/bin/tokscale
if [[ ! -x $CCUSAGE || ! -e $PREFIX/node_modules/$NATIVE/bin/ccusage || ! -x $TOKSCALE ]]; then
  echo "== installing ccusage@$CCUSAGE_VERSION and $TOKSCALE_PACKAGE into $PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$PREFIX" "ccusage@$CCUSAGE_VERSION" "$TOKSCALE_PACKAGE" >/dev/null
fi
[[ -e $PREFIX/node_modules/$NATIVE/bin/ccusage ]] || { echo "ccusage's native binary is missing"; exit 1; }
[[ -x $TOKSCALE ]] || { echo "tokscale's binary is missing"; exit 1; }
echo "   ccusage $("$CCUSAGE" --version 2>/dev/null | tail -1), $("$TOKSCALE" --version 2>/dev/null | tail -1)"
# tokscale reads HOME/.claude/projects.
TOKHOME=$WORK/tokscale-home
mkdir -p "$TOKHOME/.claude"
ln -sfn "$(cd "$TREE/projects" && pwd)" "$TOKHOME/.claude/projects"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# timed NAME CMD...: appends "seconds peak_kb" of one run to $WORK/times.NAME.
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/time.one" "$@"
  cat "$WORK/time.one" >> "$WORK/times.$name"
}
rm -f "$WORK"/times.*

# Warm the page cache so that every tool reads from memory.
find "$TREE/projects" -type f -name '*.jsonl' -exec cat {} + > /dev/null

CACHE=$WORK/costlens-cache
HIST=$WORK/costlens-history.sqlite
CL=(env "COSTLENS_CACHE_DIR=$CACHE" "COSTLENS_HISTORY_DB=$HIST" "$COSTLENS" report "$TREE" --json --period day)

echo "== grep -rc '\"usage\"' ($RUNS runs)"
for i in $(seq "$RUNS"); do timed grep grep -rc '"usage"' "$TREE/projects" > /dev/null; done
echo "== ccusage daily --offline --json ($RUNS runs)"
for i in $(seq "$RUNS"); do
  CLAUDE_CONFIG_DIR=$TREE timed ccusage "$CCUSAGE" daily --offline --json --timezone UTC > "$WORK/ccusage.json"
done
# tokscale keeps a message cache in its config folder (~/.config/tokscale): kept apart here
# (XDG_CONFIG_HOME), emptied before each cold run, kept for the warm runs. A cache left by
# another tree linked at the same place gives wrong totals.
TOKCONF=$WORK/tokscale-config
echo "== tokscale models --json -c claude ($RUNS cold runs, $RUNS warm)"
for i in $(seq "$RUNS"); do
  rm -rf "$TOKCONF"
  XDG_CONFIG_HOME=$TOKCONF timed tokscale-cold "$TOKSCALE" models --json -c claude --home "$TOKHOME" > "$WORK/tokscale.json" 2> "$WORK/tokscale.err"
done
for i in $(seq "$RUNS"); do
  XDG_CONFIG_HOME=$TOKCONF timed tokscale "$TOKSCALE" models --json -c claude --home "$TOKHOME" > "$WORK/tokscale-warm.json" 2> "$WORK/tokscale.err"
done
echo "== costlens report --json --period day ($RUNS runs of each state)"
for i in $(seq "$RUNS"); do
  rm -rf "$CACHE" "$HIST" "$HIST-wal" "$HIST-shm"
  timed first "${CL[@]}" > "$WORK/costlens.json"
done
for i in $(seq "$RUNS"); do
  rm -rf "$CACHE"
  timed cold "${CL[@]}" > "$WORK/costlens-cold.json"
done
for i in $(seq "$RUNS"); do
  rm -rf "$CACHE"
  timed no-hist "${CL[@]}" --no-history > "$WORK/costlens-nohist.json"
done
"${CL[@]}" > /dev/null
for i in $(seq "$RUNS"); do timed warm "${CL[@]}" > "$WORK/costlens-warm.json"; done
# Nothing changed, but no answer kept for this report (another view of the same tree, or the
# app): the import comes whole from the snapshot, and the cube and the report are built.
for i in $(seq "$RUNS"); do
  rm -f "$CACHE"/*.answer
  timed snapshot "${CL[@]}" > "$WORK/costlens-snapshot.json"
done
# A live session: one line appended to a session file before each run, then taken off again
# (the file's size put back) and the tree re-read, so that the next run sees one change too.
LIVE=$(find "$TREE/projects" -maxdepth 2 -type f -name '*.jsonl' | sort | sed -n 1p)
LEN=$(stat -c %s "$LIVE")
for i in $(seq "$RUNS"); do
  tail -n 1 "$LIVE" >> "$LIVE"
  timed append "${CL[@]}" > "$WORK/costlens-append.json"
  truncate -s "$LEN" "$LIVE"
  "${CL[@]}" > /dev/null
done

MB=$(echo "$BYTES / 1000000" | bc -l)
col() { awk -v c="$1" '{print $c}' "$WORK/times.$2" | median; }
maxkb() { awk '{print $2}' "$WORK/times.$1" | sort -g | tail -1; }
echo
printf '%-36s %8s %8s %9s   runs (s)\n' "" "median" "MB/s" "peak MB"
for n in grep ccusage tokscale-cold tokscale first cold no-hist warm snapshot append; do
  m=$(col 1 "$n")
  printf '%-36s %7.3fs %8.0f %9.0f   %s\n' "$n" "$m" "$(echo "$MB / $m" | bc -l)" "$(echo "$(maxkb "$n") / 1024" | bc -l)" "$(awk '{printf "%s ", $1}' "$WORK/times.$n")"
done
C=$(col 1 cold); F=$(col 1 first); N=$(col 1 no-hist); W=$(col 1 warm); G=$(col 1 grep)
printf 'ccusage / costlens:  %.1fx (cold), %.1fx (first import), %.1fx (no history), %.1fx (warm)\n' \
  "$(echo "$(col 1 ccusage) / $C" | bc -l)" "$(echo "$(col 1 ccusage) / $F" | bc -l)" "$(echo "$(col 1 ccusage) / $N" | bc -l)" "$(echo "$(col 1 ccusage) / $W" | bc -l)"
printf 'tokscale / costlens: %.1fx (cold), %.1fx (first import), %.1fx (no history), %.1fx (warm: tokscale warm / costlens warm)\n' \
  "$(echo "$(col 1 tokscale-cold) / $C" | bc -l)" "$(echo "$(col 1 tokscale-cold) / $F" | bc -l)" "$(echo "$(col 1 tokscale-cold) / $N" | bc -l)" "$(echo "$(col 1 tokscale) / $W" | bc -l)"
printf 'costlens / grep floor: %.1fx (cold), %.1fx (no history)\n' "$(echo "$C / $G" | bc -l)" "$(echo "$N / $G" | bc -l)"
echo
python3 "$ROOT/benches/ccusage/compare.py" "$WORK/ccusage.json" "$WORK/costlens.json" \
  "$WORK/costlens-cold.json" "$WORK/costlens-nohist.json" "$WORK/costlens-warm.json" \
  "$WORK/costlens-snapshot.json"
python3 "$ROOT/benches/ccusage/compare.py" --tokscale "$WORK/tokscale.json" "$WORK/costlens.json" || true
echo "tokscale warm (its cache kept):"
python3 "$ROOT/benches/ccusage/compare.py" --tokscale "$WORK/tokscale-warm.json" "$WORK/costlens.json" || true
