#!/usr/bin/env bash
# Runs the day of examples/day-in-the-life.sh with two popug builds in lockstep and shows
# that they behave the same: one ledger is set up (users, sign-ins) by OLD, copied (its log
# only: the copy's projections are built by NEW), then every command of the day runs on
# both copies with the same clock, seed and tokens. Each command's exit code, stdout and
# stderr must be byte-identical (the ledger's path aside), and so must the two logs and the
# two Maildirs at the end: same decisions, same events, same bytes.
#
# usage: bash examples/compare-builds.sh OLD_POPUG NEW_POPUG
set -euo pipefail
OLD=$(realpath "$1")
NEW=$(realpath "$2")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
A=$WORK/a/ledger B=$WORK/b/ledger
export HOME=$WORK/home POPUG_SEED=7 POPUG_NOW=${POPUG_NOW:-$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)}
mkdir -p "$HOME" "$WORK/a" "$WORK/b"
password_of() { sed -n 's/.*temporary password: //p'; }

# the setup, by OLD alone (sign-ins carry the real clock, so they are made once)
INIT=$(POPUG_LEDGER=$A "$OLD" init --admin boss)
BOSS=$(echo "$INIT" | password_of | POPUG_LEDGER=$A "$OLD" login boss --password-stdin --print-token)
declare -A TOKEN
for spec in kesha:worker gosha:worker rio:worker zazu:manager iago:accountant; do
  login=${spec%%:*} role=${spec##*:}
  pw=$(POPUG_LEDGER=$A POPUG_TOKEN=$BOSS "$OLD" user add "$login" --role "$role" --notify file | password_of)
  TOKEN[$login]=$(echo "$pw" | POPUG_LEDGER=$A "$OLD" login "$login" --password-stdin --print-token)
done
CRON=$(POPUG_LEDGER=$A POPUG_TOKEN=${TOKEN[iago]} "$OLD" token create --name cron --expires-in 90d 2>/dev/null)
mkdir -p "$B"
chmod 700 "$B"
cp -a "$A/events.jsonl" "$A/notifications" "$B/"
[ -d "$A/payouts" ] && cp -a "$A/payouts" "$B/"

compared=0
# both TOKEN ARGS...: the command on both copies; any difference stops the script
both() {
  local token=$1
  shift
  local ra=0 rb=0
  POPUG_LEDGER=$A POPUG_TOKEN=$token "$OLD" "$@" >"$WORK/a.out" 2>"$WORK/a.err" || ra=$?
  POPUG_LEDGER=$B POPUG_TOKEN=$token "$NEW" "$@" >"$WORK/b.out" 2>"$WORK/b.err" || rb=$?
  sed -i "s#$A#LEDGER#g" "$WORK/a.out" "$WORK/a.err"
  sed -i "s#$B#LEDGER#g" "$WORK/b.out" "$WORK/b.err"
  if [ "$ra" != "$rb" ] || ! cmp -s "$WORK/a.out" "$WORK/b.out" || ! cmp -s "$WORK/a.err" "$WORK/b.err"; then
    echo "DIFFERENT: popug $* (exit $ra / $rb)"
    diff "$WORK/a.out" "$WORK/b.out" || true
    diff "$WORK/a.err" "$WORK/b.err" || true
    exit 1
  fi
  compared=$((compared + 1))
}

both "$BOSS" user list
both "$BOSS" task create "Fix the beak" --jira-id POP-1
both "${TOKEN[zazu]}" task create "Clean the cage"
both "${TOKEN[zazu]}" task create "Count the seeds" --description "all of them"
both "${TOKEN[kesha]}" task create "Learn a new word"
both "${TOKEN[iago]}" task create "Audit the perches"
both "${TOKEN[gosha]}" --json task create "Sing at dawn"
both "${TOKEN[zazu]}" shuffle
both "${TOKEN[zazu]}" --json shuffle
for w in kesha gosha rio; do
  both "${TOKEN[$w]}" --format csv task list
  for n in $(tail -n +2 "$WORK/a.out" | cut -d, -f1); do
    both "${TOKEN[$w]}" task done "$n"
  done
  both "${TOKEN[$w]}" balance
done
both "$BOSS" task create "Guard the nest"
both "${TOKEN[kesha]}" task done 1
both "$BOSS" user set-role rio manager
both "$CRON" pay-daily
both "$CRON" --json pay-daily
both "${TOKEN[iago]}" balance --all
both "${TOKEN[iago]}" --json balance --all
for w in kesha gosha rio; do both "${TOKEN[iago]}" audit "$w"; done
both "${TOKEN[iago]}" --json audit kesha
both "$BOSS" analytics
both "$BOSS" --json analytics
both "${TOKEN[iago]}" earnings
both "${TOKEN[iago]}" --json earnings --from 2000-01-01
for f in csv json table; do
  both "${TOKEN[iago]}" --format $f audit gosha
  both "${TOKEN[iago]}" --format $f balance --all
  both "${TOKEN[kesha]}" --format $f balance
  both "$BOSS" --format $f analytics
  both "${TOKEN[iago]}" --format $f earnings
  both "$BOSS" --format $f task list --all
  both "$BOSS" --format $f task show 3
  both "$BOSS" --format $f user list
  both "$BOSS" --format $f user show iago
  both "${TOKEN[iago]}" --format $f token list
  both "$BOSS" --format $f token list --all
done
both "${TOKEN[iago]}" --format csv export transactions
both "${TOKEN[iago]}" --format csv export payments
both "${TOKEN[iago]}" export journal
both "$BOSS" task list --all
both "$BOSS" --json user show kesha
both "$BOSS" user deactivate gosha
both "$BOSS" task show 2
# refusals: each with its exit code, message and hint, and nothing written
both "${TOKEN[kesha]}" task done 999
both "${TOKEN[kesha]}" balance --all
both "${TOKEN[kesha]}" --json task done 1
both "${TOKEN[kesha]}" task done 2
both "$BOSS" task create "[POP-1] Old style"
both "$BOSS" task create "Bad id" --jira-id pop-1
both "$BOSS" --json task create ""
both "$BOSS" task create "Keyed" --idempotency-key k1
both "$BOSS" task create "Keyed again" --idempotency-key k1
both "$BOSS" user set-role boss worker
both "$BOSS" user add kesha --role worker
both "$BOSS" token create --name ""
both "$BOSS" token revoke 00000000-0000-0000-0000-000000000000
both "$CRON" pay-daily --date 2000-01-01
both "$BOSS" user deactivate kesha
both "$BOSS" user deactivate rio
both "$BOSS" --json user deactivate boss
# the answers of commands that act, in every format
for f in csv json table; do
  both "$BOSS" --format $f task create "Format $f"
  both "$BOSS" --format $f whoami
  both "$BOSS" --format $f user set-role zazu worker
  both "$BOSS" --format $f user set-role zazu manager
  both "$CRON" --format $f pay-daily
  both "$BOSS" --format $f schema
done

cmp "$A/events.jsonl" "$B/events.jsonl"
diff -r "$A/notifications" "$B/notifications"
echo "same: $compared commands gave byte-identical answers; the two logs ($(wc -l <"$A/events.jsonl") events) and Maildirs are identical"
