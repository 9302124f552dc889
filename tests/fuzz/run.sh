#!/usr/bin/env bash
# Runs the cargo-fuzz targets of mailaudit one after another, each for
# FUZZ_SECONDS (default 600), on one core, then minimises each corpus and
# prints a summary table. See tests/fuzz/README.md.
#
#   bash tests/fuzz/run.sh                 # every target, 600 s each
#   FUZZ_SECONDS=60 bash tests/fuzz/run.sh spf smtp   # a subset, 60 s each
#
# Environment:
#   FUZZ_SECONDS      seconds per target (default 600)
#   FUZZ_TIMEOUT      seconds one input may take before it counts as a hang (default 10)
#   FUZZ_LOG_DIR      where the libFuzzer logs and results.tsv go (default /tmp/mailaudit-fuzz)
#   FUZZ_NO_CMIN=1    skip the corpus minimisation
#   FUZZ_NO_BUILD=1   run the binaries already built (no cargo step at all)
#   CARGO_TARGET_DIR  fuzz build directory (default ~/.cache/mailaudit-fuzz-target,
#                     apart from the main build's so the two never wait for each other)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

all_targets=(tls_hello smtp imap pop3 managesieve mta_sts spf tag_records sieve_script client_config)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
seconds="${FUZZ_SECONDS:-600}"
timeout_per_input="${FUZZ_TIMEOUT:-10}"
log_dir="${FUZZ_LOG_DIR:-/tmp/mailaudit-fuzz}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mailaudit-fuzz-target}"
mkdir -p "$log_dir" "$CARGO_TARGET_DIR"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# cargo-fuzz needs nightly flags (-Z sanitizer, -Cpasses=sancov-module).
# A nightly toolchain is used when rustup has one; otherwise the stable
# compiler is told to accept them with RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    mode="cargo +nightly fuzz"
else
    fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
    mode="RUSTC_BOOTSTRAP=1 cargo fuzz (stable)"
fi
echo "== toolchain: $mode; build directory: $CARGO_TARGET_DIR"

# Build once, then run the binaries themselves: `cargo fuzz run` and
# `cargo fuzz cmin` rebuild first, and in a working tree others edit, a
# rebuild of mailaudit with instrumentation costs minutes between targets.
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "== building ${targets[*]}"
    for target in "${targets[@]}"; do
        "${fuzz[@]}" build --fuzz-dir tests/fuzz "$target"
    done
fi
bin_dir="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"

results="$log_dir/results.tsv"
printf 'target\tseconds\texecutions\texec_per_s\tcorpus_files\tcrashes\n' >"$results"
status=0
for target in "${targets[@]}"; do
    corpus="tests/fuzz/corpus/$target"
    artifacts="tests/fuzz/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    log="$log_dir/$target.log"
    echo "== fuzzing $target for $seconds s (log: $log)"
    started=$(date +%s)
    # One process, one thread: libFuzzer's default without -jobs/-workers.
    # -print_final_stats gives the execution count for the table.
    set +e
    "$bin_dir/$target" "$corpus" \
        -max_total_time="$seconds" -timeout="$timeout_per_input" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    code=$?
    set -e
    elapsed=$(($(date +%s) - started))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    executions=${executions:-0}
    crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    if [ "$code" -ne 0 ]; then
        status=1
        echo "   $target stopped with exit code $code; see $log and $artifacts"
    fi
    if [ "${FUZZ_NO_CMIN:-0}" != 1 ]; then
        # What `cargo fuzz cmin` does: merge into an empty directory, keeping
        # only inputs that add coverage, then swap it in.
        minimised="$(mktemp -d)"
        if "$bin_dir/$target" -merge=1 -timeout="$timeout_per_input" "$minimised" "$corpus" \
            >"$log_dir/$target.cmin.log" 2>&1; then
            # Tolerates files vanishing underneath (another run on the same
            # corpus): the merged set is complete by itself.
            find "$corpus" -type f -delete 2>/dev/null || true
            cp -f "$minimised"/* "$corpus"/ || true
        else
            echo "   minimising $target failed; see $log_dir/$target.cmin.log"
        fi
        rm -rf "$minimised"
    fi
    files=$(find "$corpus" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$elapsed" "$executions" \
        "$((executions / (elapsed > 0 ? elapsed : 1)))" "$files" "$crashes" >>"$results"
done

echo
echo "== summary ($mode, $seconds s per target; $results)"
column -t -s $'\t' "$results"
echo "corpus size: $(du -sh tests/fuzz/corpus | cut -f1)"
exit "$status"
