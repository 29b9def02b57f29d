#!/usr/bin/env bash
# The project's single test command (CI runs it through .ci/run).
#
#   scripts/test.sh [CARGO TEST ARGS...]     e.g. scripts/test.sh -- --nocapture
#
# Steps: cargo fmt --check, cargo clippy --all-targets -D warnings, start the test services
# (scripts/services.sh up kafka), then cargo test --all-targets with KAFKA_BOOTSTRAP and
# SLUICE_REQUIRE_SERVICES=1 exported. The services are always stopped on exit; the exit code is cargo's.
#
#   SLUICE_TEST_SKIP_LINT=1   skip fmt and clippy (quick local loops)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*"; }

if [[ "${SLUICE_TEST_SKIP_LINT:-0}" == 1 ]]; then
    step "skipping cargo fmt / clippy (SLUICE_TEST_SKIP_LINT=1)"
else
    step "cargo fmt --check"
    cargo fmt --check
    step "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets -- -D warnings
fi

# shellcheck disable=SC2317 # invoked through the EXIT trap
cleanup() {
    step "stopping test services"
    bash scripts/services.sh down kafka || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "starting test services (kafka)"
bash scripts/services.sh up kafka
# shellcheck source=/dev/null
. "$(bash scripts/services.sh path)"
export KAFKA_BOOTSTRAP
export SLUICE_REQUIRE_SERVICES=1

step "cargo test --all-targets $* (KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP)"
rc=0
cargo test --all-targets "$@" || rc=$?
step "cargo test exited with $rc"
exit "$rc"
