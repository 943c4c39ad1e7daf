#!/usr/bin/env bash
# Fuzzes costlens's importers: each target runs for SECONDS (default 600), one after another.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
# Targets: detect console_usage console_cost admin messages batch claude_code.
# Installs cargo-fuzz if missing. libFuzzer needs nightly compiler flags; RUSTC_BOOTSTRAP=1
# lets the stable toolchain accept them. A crash, hang (>10 s on one input) or out-of-memory
# (>2 GiB) stops the target and leaves the input in fuzz/artifacts/TARGET/: turn it into a
# regression test under tests/ (see tests/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(detect console_usage console_cost admin messages batch claude_code)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t: ${secs}s"
  # Seeds: a few lines of each sample format (fuzz/seeds), grown into fuzz/corpus (not committed).
  cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1
done
