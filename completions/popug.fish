# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_popug_global_optspecs
    string join \n ledger= json format= no-color h/help V/version
end

function __fish_popug_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_popug_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_popug_using_subcommand
    set -l cmd (__fish_popug_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c popug -n "__fish_popug_needs_command" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_needs_command" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_needs_command" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_needs_command" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_needs_command" -s V -l version -d 'Print version'
complete -c popug -n "__fish_popug_needs_command" -f -a "init" -d 'Create a ledger and its first admin; prints the admin\'s temporary password once'
complete -c popug -n "__fish_popug_needs_command" -f -a "login" -d 'Sign in: checks the password and saves a session for this OS user and ledger'
complete -c popug -n "__fish_popug_needs_command" -f -a "logout" -d 'Sign out: ends the saved session'
complete -c popug -n "__fish_popug_needs_command" -f -a "whoami" -d 'Who is signed in'
complete -c popug -n "__fish_popug_needs_command" -f -a "passwd" -d 'Change your password'
complete -c popug -n "__fish_popug_needs_command" -f -a "token" -d 'API tokens for automation (cron)'
complete -c popug -n "__fish_popug_needs_command" -f -a "user" -d 'Users: add, list, show, set-role, deactivate, reset-password'
complete -c popug -n "__fish_popug_needs_command" -f -a "task" -d 'Tasks: create, done, list, show, import'
complete -c popug -n "__fish_popug_needs_command" -f -a "shuffle" -d 'Reassign every open task to a random worker (admins, managers)'
complete -c popug -n "__fish_popug_needs_command" -f -a "pay-daily" -d 'Pay every positive balance at the end of a day (admins, accountants; cron)'
complete -c popug -n "__fish_popug_needs_command" -f -a "balance" -d 'A balance: yours, someone\'s, or everyone\'s'
complete -c popug -n "__fish_popug_needs_command" -f -a "audit" -d 'An account\'s transactions with running balance, oldest first'
complete -c popug -n "__fish_popug_needs_command" -f -a "earnings" -d 'Management earnings per day: fees charged minus rewards paid (admins, accountants)'
complete -c popug -n "__fish_popug_needs_command" -f -a "analytics" -d 'A day\'s earnings, workers in the red, and the most expensive task of the day, week and month (admins)'
complete -c popug -n "__fish_popug_needs_command" -f -a "export" -d 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)'
complete -c popug -n "__fish_popug_needs_command" -f -a "events" -d 'Print the log as JSON lines, exactly as stored (admins)'
complete -c popug -n "__fish_popug_needs_command" -f -a "verify" -d 'Check every invariant of the ledger; exit 6 naming the first problem'
complete -c popug -n "__fish_popug_needs_command" -f -a "rebuild" -d 'Recreate the stores (views/*.db) from the log (admins)'
complete -c popug -n "__fish_popug_needs_command" -f -a "schema" -d 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue'
complete -c popug -n "__fish_popug_needs_command" -f -a "serve" -d 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM'
complete -c popug -n "__fish_popug_needs_command" -f -a "hand-over" -d 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)'
complete -c popug -n "__fish_popug_needs_command" -f -a "worker" -d 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin\'s API token)'
complete -c popug -n "__fish_popug_needs_command" -f -a "ledger" -d 'The ledger as a whole: copy it to a new place (a directory or nats://)'
complete -c popug -n "__fish_popug_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c popug -n "__fish_popug_needs_command" -f -a "man" -d 'Print the manual page (roff): every subcommand and flag, or one command\'s page'
complete -c popug -n "__fish_popug_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand init" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand init" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand init" -l admin -d 'Login of the first admin' -r
complete -c popug -n "__fish_popug_using_subcommand init" -l timezone -d 'IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)' -r
complete -c popug -n "__fish_popug_using_subcommand init" -l replicas -d 'For a nats:// ledger: how many servers keep a copy of its stream (3 on a three-node cluster survives the loss of one)' -r
complete -c popug -n "__fish_popug_using_subcommand init" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand init" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand login" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand login" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand login" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand login" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand login" -l password-stdin -d 'Read the password from the first line of standard input'
complete -c popug -n "__fish_popug_using_subcommand login" -l print-token -d 'Print the session token instead of saving it (for scripts)'
complete -c popug -n "__fish_popug_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand logout" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand logout" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand logout" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand logout" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand whoami" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand whoami" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand whoami" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand whoami" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand passwd" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand passwd" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand passwd" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand passwd" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand passwd" -l password-stdin -d 'Read the current password, then the new one, from the first two lines of standard input'
complete -c popug -n "__fish_popug_using_subcommand passwd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Create an API token for automation (printed once, stored hashed)'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'Your API tokens (`--all`: everyone\'s, admins)'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke one of your API tokens (admins: anyone\'s)'
complete -c popug -n "__fish_popug_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l name -r
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l expires-in -d 'Lifetime: a number and s, m, h or d (90d, 12h), or `never`; a token made with an API token never outlives it' -r
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -l all -d 'Every user\'s API tokens (admins)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from revoke" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from revoke" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from revoke" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from revoke" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an API token for automation (printed once, stored hashed)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'Your API tokens (`--all`: everyone\'s, admins)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke one of your API tokens (admins: anyone\'s)'
complete -c popug -n "__fish_popug_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "add" -d 'Create a user and their account; prints the temporary password once'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "list" -d 'Every user'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "show" -d 'One user'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "set-role" -d 'Change a user\'s role; a worker\'s open tasks go to other workers'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "deactivate" -d 'End someone\'s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "reset-password" -d 'A new temporary password for someone, printed once; their sessions and tokens end'
complete -c popug -n "__fish_popug_using_subcommand user; and not __fish_seen_subcommand_from add list show set-role deactivate reset-password help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l role -r -f -a "worker\t''
manager\t''
accountant\t''
admin\t''"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l name -r
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l email -r
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l notify -d 'Where their notifications go' -r -f -a "stdout\t''
file\t''
none\t''"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from list" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from list" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from list" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from show" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from show" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from show" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from set-role" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from set-role" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from set-role" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from set-role" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from set-role" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from deactivate" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from deactivate" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from deactivate" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from deactivate" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from reset-password" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from reset-password" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from reset-password" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from reset-password" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from reset-password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "add" -d 'Create a user and their account; prints the temporary password once'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every user'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "show" -d 'One user'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "set-role" -d 'Change a user\'s role; a worker\'s open tasks go to other workers'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'End someone\'s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "reset-password" -d 'A new temporary password for someone, printed once; their sessions and tokens end'
complete -c popug -n "__fish_popug_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "create" -d 'Create a task; it is priced once and assigned to a random worker'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "done" -d 'Mark your task done (its number or id); the reward is credited at once'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "list" -d 'Your open tasks; --all or --assignee for everyone\'s (admins, managers)'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "show" -d 'One task (its number or id)'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "import" -d 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
complete -c popug -n "__fish_popug_using_subcommand task; and not __fish_seen_subcommand_from create done list show import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l jira-id -d 'The task\'s Jira id (e.g. POP-42), shown as `[POP-42]` before the title' -r
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l description -d 'More about the task, up to 10,000 characters' -r
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l idempotency-key -d 'A retried request with this key answers as the first time and creates nothing' -r
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from done" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from done" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from done" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from done" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from done" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l status -r -f -a "open\t''
done\t''"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l assignee -r
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l all
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from show" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from show" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from show" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -l idempotency-key -d 'A retried import with this key creates only the rows not created yet, and answers as a complete import' -r
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a task; it is priced once and assigned to a random worker'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "done" -d 'Mark your task done (its number or id); the reward is credited at once'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "list" -d 'Your open tasks; --all or --assignee for everyone\'s (admins, managers)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "show" -d 'One task (its number or id)'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "import" -d 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
complete -c popug -n "__fish_popug_using_subcommand task; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand shuffle" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand shuffle" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand shuffle" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand shuffle" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand shuffle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -l date -d 'The day to pay (default: today in the ledger\'s timezone)' -r
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand pay-daily" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand balance" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand balance" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand balance" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand balance" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand balance" -l all -d 'Every user\'s balance'
complete -c popug -n "__fish_popug_using_subcommand balance" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand audit" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand audit" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand audit" -l from -d 'First billing date to show (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand audit" -l to -d 'Last billing date to show (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand audit" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand audit" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand earnings" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand earnings" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand earnings" -l from -d 'First day (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand earnings" -l to -d 'Last day (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand earnings" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand earnings" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand earnings" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand analytics" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand analytics" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand analytics" -l date -d 'The day to report on (default: today in the ledger\'s timezone)' -r
complete -c popug -n "__fish_popug_using_subcommand analytics" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand analytics" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand analytics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand export" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand export" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand export" -l from -d 'First day (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand export" -l to -d 'Last day (YYYY-MM-DD)' -r
complete -c popug -n "__fish_popug_using_subcommand export" -s o -l output -d 'Write to FILE instead of standard output (`-`: standard output)' -r -F
complete -c popug -n "__fish_popug_using_subcommand export" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand export" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand export" -l bom -d 'Begin a CSV export with a UTF-8 byte order mark, which Excel needs to read it as UTF-8 (CSV exports only)'
complete -c popug -n "__fish_popug_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand events" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand events" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand events" -l since -d 'Only events after this seq (pass the last seq you have seen)' -r
complete -c popug -n "__fish_popug_using_subcommand events" -l type -d 'Only events of this type (e.g. UserCreated); may be repeated' -r
complete -c popug -n "__fish_popug_using_subcommand events" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand events" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand events" -l follow -d 'Keep printing new events as they are appended (until interrupted)'
complete -c popug -n "__fish_popug_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand verify" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand verify" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand verify" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand verify" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand schema" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand schema" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand schema" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand schema" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand serve" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand serve" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand serve" -l bind -d 'The address and port to listen on (loopback unless you choose otherwise)' -r
complete -c popug -n "__fish_popug_using_subcommand serve" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand serve" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand hand-over" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand hand-over" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand hand-over" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand hand-over" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand hand-over" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand worker" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand worker" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand worker" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand worker" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand worker" -l once -d 'Catch up once and exit'
complete -c popug -n "__fish_popug_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -f -a "copy" -d 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
complete -c popug -n "__fish_popug_using_subcommand ledger; and not __fish_seen_subcommand_from copy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -l replicas -d 'For a nats:// destination: how many servers keep a copy of its stream' -r
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
complete -c popug -n "__fish_popug_using_subcommand ledger; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand completions" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand completions" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand completions" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand completions" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand man" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand man" -l format -d 'Output format (also POPUG_FORMAT); for `task import`, the input\'s format (csv, jsonl)' -r -f -a "table\t''
json\t''
csv\t''
jsonl\t'JSON lines (input of `task import` only)'"
complete -c popug -n "__fish_popug_using_subcommand man" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand man" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "init" -d 'Create a ledger and its first admin; prints the admin\'s temporary password once'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "login" -d 'Sign in: checks the password and saves a session for this OS user and ledger'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "logout" -d 'Sign out: ends the saved session'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "whoami" -d 'Who is signed in'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "passwd" -d 'Change your password'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "token" -d 'API tokens for automation (cron)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "user" -d 'Users: add, list, show, set-role, deactivate, reset-password'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "task" -d 'Tasks: create, done, list, show, import'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "shuffle" -d 'Reassign every open task to a random worker (admins, managers)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "pay-daily" -d 'Pay every positive balance at the end of a day (admins, accountants; cron)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "balance" -d 'A balance: yours, someone\'s, or everyone\'s'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "audit" -d 'An account\'s transactions with running balance, oldest first'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "earnings" -d 'Management earnings per day: fees charged minus rewards paid (admins, accountants)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "analytics" -d 'A day\'s earnings, workers in the red, and the most expensive task of the day, week and month (admins)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "export" -d 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "events" -d 'Print the log as JSON lines, exactly as stored (admins)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "verify" -d 'Check every invariant of the ledger; exit 6 naming the first problem'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "rebuild" -d 'Recreate the stores (views/*.db) from the log (admins)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "schema" -d 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "serve" -d 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "hand-over" -d 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "worker" -d 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin\'s API token)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "ledger" -d 'The ledger as a whole: copy it to a new place (a directory or nats://)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "man" -d 'Print the manual page (roff): every subcommand and flag, or one command\'s page'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init login logout whoami passwd token user task shuffle pay-daily balance audit earnings analytics export events verify rebuild schema serve hand-over worker ledger completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create an API token for automation (printed once, stored hashed)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'Your API tokens (`--all`: everyone\'s, admins)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke one of your API tokens (admins: anyone\'s)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "add" -d 'Create a user and their account; prints the temporary password once'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "list" -d 'Every user'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "show" -d 'One user'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "set-role" -d 'Change a user\'s role; a worker\'s open tasks go to other workers'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "deactivate" -d 'End someone\'s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "reset-password" -d 'A new temporary password for someone, printed once; their sessions and tokens end'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from task" -f -a "create" -d 'Create a task; it is priced once and assigned to a random worker'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from task" -f -a "done" -d 'Mark your task done (its number or id); the reward is credited at once'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from task" -f -a "list" -d 'Your open tasks; --all or --assignee for everyone\'s (admins, managers)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from task" -f -a "show" -d 'One task (its number or id)'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from task" -f -a "import" -d 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches'
complete -c popug -n "__fish_popug_using_subcommand help; and __fish_seen_subcommand_from ledger" -f -a "copy" -d 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME'
