
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
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a ledger and its first admin; prints the admin''s temporary password once'
            cand events 'Print the log as JSON lines, exactly as stored'
            cand verify 'Check every invariant of the ledger; exit 6 naming the first problem'
            cand rebuild 'Recreate the projection database (popug.db) from the log'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;init'= {
            cand --admin 'Login of the first admin'
            cand --timezone 'IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;events'= {
            cand --since 'Only events after this seq (pass the last seq you have seen)'
            cand --type 'Only events of this type (e.g. UserCreated); may be repeated'
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --follow 'Keep printing new events as they are appended (until interrupted)'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;verify'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;rebuild'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;completions'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;man'= {
            cand --ledger 'The ledger directory [default: ~/.local/share/popug]'
            cand --format 'Output format'
            cand --json 'Print exactly one JSON document on stdout (same as --format json)'
            cand --no-color 'Plain output without colour (also NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'popug;help'= {
            cand init 'Create a ledger and its first admin; prints the admin''s temporary password once'
            cand events 'Print the log as JSON lines, exactly as stored'
            cand verify 'Check every invariant of the ledger; exit 6 naming the first problem'
            cand rebuild 'Recreate the projection database (popug.db) from the log'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'popug;help;init'= {
        }
        &'popug;help;events'= {
        }
        &'popug;help;verify'= {
        }
        &'popug;help;rebuild'= {
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
