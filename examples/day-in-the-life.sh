#!/usr/bin/env bash
# A day at UberPopug Inc., using only popug's public commands: users of every role, tasks
# created by several people, a shuffle, completions, the day's payments, a second payment run
# that pays nothing, then everyone's balance and one worker's audit log.
#
# usage: bash examples/day-in-the-life.sh [LEDGER_DIR]   (default: a new temporary directory)
# With POPUG_SEED and POPUG_NOW set, its output is the same on every run (tests/compat.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
# POPUG_BIN: another popug binary to drive (to compare two builds' outputs)
if [[ -z "${POPUG_BIN:-}" ]]; then
  cargo build --release --quiet
  POPUG_BIN=./target/release/popug
fi
popug() { "$POPUG_BIN" "$@"; }
password_of() { sed -n 's/.*temporary password: //p'; }

export POPUG_LEDGER="${1:-$(mktemp -d)/ledger}"
echo "== ledger: $POPUG_LEDGER"

echo "== the company opens its ledger; its first admin signs in"
INIT=$(popug init --admin boss)
echo "$INIT"
BOSS_PW=$(echo "$INIT" | password_of)
BOSS=$(echo "$BOSS_PW" | popug login boss --password-stdin --print-token)

echo "== the admin adds people (each gets a temporary password, shown once)"
declare -A TOKEN
for spec in kesha:worker gosha:worker rio:worker zazu:manager iago:accountant; do
  login=${spec%%:*} role=${spec##*:}
  pw=$(POPUG_TOKEN=$BOSS popug user add "$login" --role "$role" --notify file | password_of)
  TOKEN[$login]=$(echo "$pw" | popug login "$login" --password-stdin --print-token)
done
POPUG_TOKEN=$BOSS popug user list

echo "== anyone creates tasks; each is priced once and assigned to a random worker"
POPUG_TOKEN=$BOSS popug task create "Fix the beak" --jira-id POP-1
POPUG_TOKEN=${TOKEN[zazu]} popug task create "Clean the cage"
POPUG_TOKEN=${TOKEN[zazu]} popug task create "Count the seeds" --description "all of them"
POPUG_TOKEN=${TOKEN[kesha]} popug task create "Learn a new word"
POPUG_TOKEN=${TOKEN[iago]} popug task create "Audit the perches"
POPUG_TOKEN=${TOKEN[gosha]} popug task create "Sing at dawn"

echo "== the manager shuffles every open task (each reassignment charges the fee again)"
POPUG_TOKEN=${TOKEN[zazu]} popug shuffle

echo "== each worker finishes their open tasks (the reward is credited at once)"
for w in kesha gosha rio; do
  for n in $(POPUG_TOKEN=${TOKEN[$w]} popug --format csv task list | tail -n +2 | cut -d, -f1); do
    POPUG_TOKEN=${TOKEN[$w]} popug task done "$n"
  done
done
echo "== one more task arrives after the work is done"
POPUG_TOKEN=$BOSS popug task create "Guard the nest"

echo "== cron pays the day with the accountant's API token"
CRON=$(POPUG_TOKEN=${TOKEN[iago]} popug token create --name cron --expires-in 90d 2>/dev/null)
POPUG_TOKEN=$CRON popug pay-daily
echo "== a second run for the same day pays nothing"
POPUG_TOKEN=$CRON popug pay-daily

echo "== balances and an audit log"
POPUG_TOKEN=${TOKEN[iago]} popug balance --all
POPUG_TOKEN=${TOKEN[iago]} popug audit kesha
echo "== kesha's mailbox: $(ls "$POPUG_LEDGER/notifications/kesha/new" | wc -l) messages"

echo "== and the ledger verifies"
popug verify
