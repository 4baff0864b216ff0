#!/usr/bin/env bash
# A day at UberPopug Inc., using only popug's public commands.
# usage: bash examples/day-in-the-life.sh [LEDGER_DIR]   (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
popug() { ./target/release/popug "$@"; }

export POPUG_LEDGER="${1:-$(mktemp -d)/ledger}"
echo "== ledger: $POPUG_LEDGER"

echo "== the company opens its ledger"
popug init --admin boss --timezone UTC

echo "== the ledger checks out"
popug verify
popug events --type UserCreated | head -c 300; echo " …"
