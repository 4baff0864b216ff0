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
complete -c popug -n "__fish_popug_needs_command" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_needs_command" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_needs_command" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_needs_command" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_needs_command" -s V -l version -d 'Print version'
complete -c popug -n "__fish_popug_needs_command" -f -a "init" -d 'Create a ledger and its first admin; prints the admin\'s temporary password once'
complete -c popug -n "__fish_popug_needs_command" -f -a "events" -d 'Print the log as JSON lines, exactly as stored'
complete -c popug -n "__fish_popug_needs_command" -f -a "verify" -d 'Check every invariant of the ledger; exit 6 naming the first problem'
complete -c popug -n "__fish_popug_needs_command" -f -a "rebuild" -d 'Recreate the projection database (popug.db) from the log'
complete -c popug -n "__fish_popug_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c popug -n "__fish_popug_needs_command" -f -a "man" -d 'Print the manual page (roff)'
complete -c popug -n "__fish_popug_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c popug -n "__fish_popug_using_subcommand init" -l admin -d 'Login of the first admin' -r
complete -c popug -n "__fish_popug_using_subcommand init" -l timezone -d 'IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)' -r
complete -c popug -n "__fish_popug_using_subcommand init" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand init" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand init" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand init" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand init" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand events" -l since -d 'Only events after this seq (pass the last seq you have seen)' -r
complete -c popug -n "__fish_popug_using_subcommand events" -l type -d 'Only events of this type (e.g. UserCreated); may be repeated' -r
complete -c popug -n "__fish_popug_using_subcommand events" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand events" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand events" -l follow -d 'Keep printing new events as they are appended (until interrupted)'
complete -c popug -n "__fish_popug_using_subcommand events" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand events" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand events" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand verify" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand verify" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand verify" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand verify" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand verify" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand rebuild" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand completions" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand completions" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand completions" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand completions" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand completions" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand man" -l ledger -d 'The ledger directory [default: ~/.local/share/popug]' -r -F
complete -c popug -n "__fish_popug_using_subcommand man" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c popug -n "__fish_popug_using_subcommand man" -l json -d 'Print exactly one JSON document on stdout (same as --format json)'
complete -c popug -n "__fish_popug_using_subcommand man" -l no-color -d 'Plain output without colour (also NO_COLOR)'
complete -c popug -n "__fish_popug_using_subcommand man" -s h -l help -d 'Print help'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "init" -d 'Create a ledger and its first admin; prints the admin\'s temporary password once'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "events" -d 'Print the log as JSON lines, exactly as stored'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "verify" -d 'Check every invariant of the ledger; exit 6 naming the first problem'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "rebuild" -d 'Recreate the projection database (popug.db) from the log'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "man" -d 'Print the manual page (roff)'
complete -c popug -n "__fish_popug_using_subcommand help; and not __fish_seen_subcommand_from init events verify rebuild completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
