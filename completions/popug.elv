
use builtin;
use str;

set edit:completion:arg-completer[popug] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'popug'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'popug'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a ledger and its first admin; prints the admin''s temporary password once'
            cand login 'Sign in: checks the password and saves a session for this OS user and ledger'
            cand logout 'Sign out: ends the saved session'
            cand whoami 'Who is signed in'
            cand passwd 'Change your password'
            cand token 'API tokens for automation (cron)'
            cand user 'Users: add, list, show, set-role, deactivate, reset-password'
            cand task 'Tasks: create, done, list, show, import'
            cand shuffle 'Reassign every open task to a random worker (admins, managers)'
            cand pay-daily 'Pay every positive balance at the end of a day (admins, accountants; cron)'
            cand balance 'A balance: yours, someone''s, or everyone''s'
            cand audit 'An account''s transactions with running balance, oldest first'
            cand earnings 'Management earnings per day: fees charged minus rewards paid (admins, accountants)'
            cand analytics 'A day''s earnings, workers in the red, and the most expensive task of the day, week and month (admins)'
            cand export 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)'
            cand events 'Print the log as JSON lines, exactly as stored (admins)'
            cand verify 'Check every invariant of the ledger; exit 6 naming the first problem'
            cand rebuild 'Recreate the stores (views/*.db) from the log (admins)'
            cand schema 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue'
            cand serve 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM'
            cand hand-over 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)'
            cand worker 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin''s API token)'
            cand ledger 'The ledger as a whole: copy it to a new place (a directory or nats://)'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff): every subcommand and flag, or one command''s page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;init'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --admin 'Login of the first admin'
            cand --timezone 'IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)'
            cand --replicas 'For a nats:// ledger: how many servers keep a copy of its stream (3 on a three-node cluster survives the loss of one)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;login'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --password-stdin 'Read the password from the first line of standard input'
            cand --print-token 'Print the session token instead of saving it (for scripts)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;logout'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;whoami'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;passwd'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --password-stdin 'Read the current password, then the new one, from the first two lines of standard input'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;token'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand create 'Create an API token for automation (printed once, stored hashed)'
            cand list 'Your API tokens (`--all`: everyone''s, admins)'
            cand revoke 'Revoke one of your API tokens (admins: anyone''s)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;token;create'= {
            cand --name 'name'
            cand --expires-in 'Lifetime: a number and s, m, h or d (90d, 12h), or `never`; a token made with an API token never outlives it'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;token;list'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --all 'Every user''s API tokens (admins)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;token;revoke'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;token;help'= {
            cand create 'Create an API token for automation (printed once, stored hashed)'
            cand list 'Your API tokens (`--all`: everyone''s, admins)'
            cand revoke 'Revoke one of your API tokens (admins: anyone''s)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;token;help;create'= {
        }
        &'popug;token;help;list'= {
        }
        &'popug;token;help;revoke'= {
        }
        &'popug;token;help;help'= {
        }
        &'popug;user'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Create a user and their account; prints the temporary password once'
            cand list 'Every user'
            cand show 'One user'
            cand set-role 'Change a user''s role; a worker''s open tasks go to other workers'
            cand deactivate 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
            cand reset-password 'A new temporary password for someone, printed once; their sessions and tokens end'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;user;add'= {
            cand --role 'role'
            cand --name 'name'
            cand --email 'email'
            cand --notify 'Where their notifications go'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;list'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;show'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;set-role'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;deactivate'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;reset-password'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;user;help'= {
            cand add 'Create a user and their account; prints the temporary password once'
            cand list 'Every user'
            cand show 'One user'
            cand set-role 'Change a user''s role; a worker''s open tasks go to other workers'
            cand deactivate 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
            cand reset-password 'A new temporary password for someone, printed once; their sessions and tokens end'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;user;help;add'= {
        }
        &'popug;user;help;list'= {
        }
        &'popug;user;help;show'= {
        }
        &'popug;user;help;set-role'= {
        }
        &'popug;user;help;deactivate'= {
        }
        &'popug;user;help;reset-password'= {
        }
        &'popug;user;help;help'= {
        }
        &'popug;task'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand create 'Create a task; it is priced once and assigned to a random worker'
            cand done 'Mark your task done (its number or id); the reward is credited at once'
            cand list 'Your open tasks; --all or --assignee for everyone''s (admins, managers)'
            cand show 'One task (its number or id)'
            cand import 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;task;create'= {
            cand --jira-id 'The task''s Jira id (e.g. POP-42), shown as `[POP-42]` before the title'
            cand --description 'More about the task, up to 10,000 characters'
            cand --idempotency-key 'A retried request with this key answers as the first time and creates nothing'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;task;done'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;task;list'= {
            cand --status 'status'
            cand --assignee 'assignee'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --all 'all'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;task;show'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;task;import'= {
            cand --idempotency-key 'A retried import with this key creates only the rows not created yet, and answers as a complete import'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;task;help'= {
            cand create 'Create a task; it is priced once and assigned to a random worker'
            cand done 'Mark your task done (its number or id); the reward is credited at once'
            cand list 'Your open tasks; --all or --assignee for everyone''s (admins, managers)'
            cand show 'One task (its number or id)'
            cand import 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;task;help;create'= {
        }
        &'popug;task;help;done'= {
        }
        &'popug;task;help;list'= {
        }
        &'popug;task;help;show'= {
        }
        &'popug;task;help;import'= {
        }
        &'popug;task;help;help'= {
        }
        &'popug;shuffle'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;pay-daily'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --date 'The day to pay (default: today in the ledger''s timezone)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;balance'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --all 'Every user''s balance'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;audit'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --from 'First billing date to show (YYYY-MM-DD)'
            cand --to 'Last billing date to show (YYYY-MM-DD)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;earnings'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --from 'First day (YYYY-MM-DD)'
            cand --to 'Last day (YYYY-MM-DD)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;analytics'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --date 'The day to report on (default: today in the ledger''s timezone)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;export'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --from 'First day (YYYY-MM-DD)'
            cand --to 'Last day (YYYY-MM-DD)'
            cand -o 'Write to FILE instead of standard output (`-`: standard output)'
            cand --output 'Write to FILE instead of standard output (`-`: standard output)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --bom 'Begin a CSV export with a UTF-8 byte order mark, which Excel needs to read it as UTF-8 (CSV exports only)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;events'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --since 'Only events after this seq (pass the last seq you have seen)'
            cand --type 'Only events of this type (e.g. UserCreated); may be repeated'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --follow 'Keep printing new events as they are appended (until interrupted)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;verify'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;rebuild'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;schema'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;serve'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --bind 'The address and port to listen on (loopback unless you choose otherwise)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;hand-over'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;worker'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand --once 'Catch up once and exit'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;ledger'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand copy 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;ledger;copy'= {
            cand --replicas 'For a nats:// destination: how many servers keep a copy of its stream'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;ledger;help'= {
            cand copy 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;ledger;help;copy'= {
        }
        &'popug;ledger;help;help'= {
        }
        &'popug;completions'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;man'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'popug;help'= {
            cand init 'Create a ledger and its first admin; prints the admin''s temporary password once'
            cand login 'Sign in: checks the password and saves a session for this OS user and ledger'
            cand logout 'Sign out: ends the saved session'
            cand whoami 'Who is signed in'
            cand passwd 'Change your password'
            cand token 'API tokens for automation (cron)'
            cand user 'Users: add, list, show, set-role, deactivate, reset-password'
            cand task 'Tasks: create, done, list, show, import'
            cand shuffle 'Reassign every open task to a random worker (admins, managers)'
            cand pay-daily 'Pay every positive balance at the end of a day (admins, accountants; cron)'
            cand balance 'A balance: yours, someone''s, or everyone''s'
            cand audit 'An account''s transactions with running balance, oldest first'
            cand earnings 'Management earnings per day: fees charged minus rewards paid (admins, accountants)'
            cand analytics 'A day''s earnings, workers in the red, and the most expensive task of the day, week and month (admins)'
            cand export 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)'
            cand events 'Print the log as JSON lines, exactly as stored (admins)'
            cand verify 'Check every invariant of the ledger; exit 6 naming the first problem'
            cand rebuild 'Recreate the stores (views/*.db) from the log (admins)'
            cand schema 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue'
            cand serve 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM'
            cand hand-over 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)'
            cand worker 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin''s API token)'
            cand ledger 'The ledger as a whole: copy it to a new place (a directory or nats://)'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff): every subcommand and flag, or one command''s page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;help;init'= {
        }
        &'popug;help;login'= {
        }
        &'popug;help;logout'= {
        }
        &'popug;help;whoami'= {
        }
        &'popug;help;passwd'= {
        }
        &'popug;help;token'= {
            cand create 'Create an API token for automation (printed once, stored hashed)'
            cand list 'Your API tokens (`--all`: everyone''s, admins)'
            cand revoke 'Revoke one of your API tokens (admins: anyone''s)'
        }
        &'popug;help;token;create'= {
        }
        &'popug;help;token;list'= {
        }
        &'popug;help;token;revoke'= {
        }
        &'popug;help;user'= {
            cand add 'Create a user and their account; prints the temporary password once'
            cand list 'Every user'
            cand show 'One user'
            cand set-role 'Change a user''s role; a worker''s open tasks go to other workers'
            cand deactivate 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
            cand reset-password 'A new temporary password for someone, printed once; their sessions and tokens end'
        }
        &'popug;help;user;add'= {
        }
        &'popug;help;user;list'= {
        }
        &'popug;help;user;show'= {
        }
        &'popug;help;user;set-role'= {
        }
        &'popug;help;user;deactivate'= {
        }
        &'popug;help;user;reset-password'= {
        }
        &'popug;help;task'= {
            cand create 'Create a task; it is priced once and assigned to a random worker'
            cand done 'Mark your task done (its number or id); the reward is credited at once'
            cand list 'Your open tasks; --all or --assignee for everyone''s (admins, managers)'
            cand show 'One task (its number or id)'
            cand import 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
        }
        &'popug;help;task;create'= {
        }
        &'popug;help;task;done'= {
        }
        &'popug;help;task;list'= {
        }
        &'popug;help;task;show'= {
        }
        &'popug;help;task;import'= {
        }
        &'popug;help;shuffle'= {
        }
        &'popug;help;pay-daily'= {
        }
        &'popug;help;balance'= {
        }
        &'popug;help;audit'= {
        }
        &'popug;help;earnings'= {
        }
        &'popug;help;analytics'= {
        }
        &'popug;help;export'= {
        }
        &'popug;help;events'= {
        }
        &'popug;help;verify'= {
        }
        &'popug;help;rebuild'= {
        }
        &'popug;help;schema'= {
        }
        &'popug;help;serve'= {
        }
        &'popug;help;hand-over'= {
        }
        &'popug;help;worker'= {
        }
        &'popug;help;ledger'= {
            cand copy 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
        }
        &'popug;help;ledger;copy'= {
        }
        &'popug;help;completions'= {
        }
        &'popug;help;man'= {
        }
        &'popug;help;help'= {
        }
    ]
    $completions[$command]
}
