#!/usr/bin/env bash
# The project's single test command (CI runs it through .ci/run).
#
#   scripts/test.sh [TEST ARGS...]     e.g. scripts/test.sh s3_   (a name filter)
#
# Steps: cargo fmt --check, cargo clippy --all-targets -D warnings, start the test services
# (scripts/services.sh up kafka s3 readers clickhouse: tansu, moto, the Parquet readers' venv and Debian's
# clickhouse-server 18.16; installs are cached under .cache/services), then the tests — cargo nextest when
# installed (parallel, see .config/nextest.toml) plus smoke runs of the benchmarks, else cargo test
# --all-targets — with KAFKA_BOOTSTRAP, S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# SLUICE_READERS_PYTHON, CLICKHOUSE_URL and SLUICE_REQUIRE_SERVICES=1 exported.
# The services this run started are stopped on exit (ones that were already running are left alone);
# the exit code is the tests' (non-zero if any step failed).
#
#   SLUICE_TEST_SKIP_LINT=1   skip fmt and clippy (quick local loops)
#   SLUICE_TEST_NO_NEXTEST=1  use cargo test --all-targets even when cargo-nextest is installed
#   Extra arguments go to nextest (or cargo test), e.g. scripts/test.sh s3_ to run matching tests.
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

SERVICES=(kafka s3 readers clickhouse)

# Services already running before this run (e.g. a developer's `scripts/services.sh up`) are kept running.
STARTED=()
status="$(bash scripts/services.sh status)"
for svc in "${SERVICES[@]}"; do
    if ! grep -Eq "^$svc +(running|up) " <<<"$status"; then
        STARTED+=("$svc")
    fi
done

# shellcheck disable=SC2317 # invoked through the EXIT trap
cleanup() {
    if ((${#STARTED[@]})); then
        step "stopping test services (${STARTED[*]})"
        bash scripts/services.sh down "${STARTED[@]}" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "starting test services (${SERVICES[*]})"
bash scripts/services.sh up "${SERVICES[@]}"
# shellcheck source=/dev/null
. "$(bash scripts/services.sh path)"
: "${KAFKA_BOOTSTRAP:?services.sh did not export KAFKA_BOOTSTRAP}"
: "${S3_ENDPOINT:?services.sh did not export S3_ENDPOINT}"
: "${SLUICE_READERS_PYTHON:?services.sh did not export SLUICE_READERS_PYTHON}"
export KAFKA_BOOTSTRAP S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_EC2_METADATA_DISABLED
export SLUICE_READERS_PYTHON
: "${CLICKHOUSE_URL:?services.sh did not export CLICKHOUSE_URL}"
export CLICKHOUSE_URL
export SLUICE_REQUIRE_SERVICES=1

step "tests (KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP S3_ENDPOINT=$S3_ENDPOINT SLUICE_READERS_PYTHON=$SLUICE_READERS_PYTHON)"
rc=0
if [[ "${SLUICE_TEST_NO_NEXTEST:-0}" != 1 ]] && cargo nextest --version >/dev/null 2>&1; then
    # nextest runs the test binaries' tests in parallel processes (.config/nextest.toml); the
    # benchmarks are harness=false programs it cannot list, so cargo test smoke-runs them after.
    step "cargo nextest run --lib --bins --tests $*"
    cargo nextest run --lib --bins --tests "$@" || rc=$?
    step "cargo test --bench '*' (smoke runs)"
    cargo test --bench '*' || rc=$((rc ? rc : $?))
else
    step "cargo test --all-targets $*"
    cargo test --all-targets "$@" || rc=$?
fi
step "tests exited with $rc"
exit "$rc"
