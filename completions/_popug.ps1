
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'popug' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'popug'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'popug' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a ledger and its first admin; prints the admin''s temporary password once')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in: checks the password and saves a session for this OS user and ledger')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: ends the saved session')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Who is signed in')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Change your password')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'API tokens for automation (cron)')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Users: add, list, show, set-role, deactivate, reset-password')
            [CompletionResult]::new('task', 'task', [CompletionResultType]::ParameterValue, 'Tasks: create, done, list, show, import')
            [CompletionResult]::new('shuffle', 'shuffle', [CompletionResultType]::ParameterValue, 'Reassign every open task to a random worker (admins, managers)')
            [CompletionResult]::new('pay-daily', 'pay-daily', [CompletionResultType]::ParameterValue, 'Pay every positive balance at the end of a day (admins, accountants; cron)')
            [CompletionResult]::new('balance', 'balance', [CompletionResultType]::ParameterValue, 'A balance: yours, someone''s, or everyone''s')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'An account''s transactions with running balance, oldest first')
            [CompletionResult]::new('earnings', 'earnings', [CompletionResultType]::ParameterValue, 'Management earnings per day: fees charged minus rewards paid (admins, accountants)')
            [CompletionResult]::new('analytics', 'analytics', [CompletionResultType]::ParameterValue, 'A day''s earnings, workers in the red, and the most expensive task of the day, week and month (admins)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the log as JSON lines, exactly as stored (admins)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every invariant of the ledger; exit 6 naming the first problem')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Recreate the stores (views/*.db) from the log (admins)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM')
            [CompletionResult]::new('hand-over', 'hand-over', [CompletionResultType]::ParameterValue, 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin''s API token)')
            [CompletionResult]::new('ledger', 'ledger', [CompletionResultType]::ParameterValue, 'The ledger as a whole: copy it to a new place (a directory or nats://)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff): every subcommand and flag, or one command''s page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;init' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--admin', '--admin', [CompletionResultType]::ParameterName, 'Login of the first admin')
            [CompletionResult]::new('--timezone', '--timezone', [CompletionResultType]::ParameterName, 'IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)')
            [CompletionResult]::new('--replicas', '--replicas', [CompletionResultType]::ParameterName, 'For a nats:// ledger: how many servers keep a copy of its stream (3 on a three-node cluster survives the loss of one)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;login' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of standard input')
            [CompletionResult]::new('--print-token', '--print-token', [CompletionResultType]::ParameterName, 'Print the session token instead of saving it (for scripts)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;logout' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;whoami' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;passwd' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the current password, then the new one, from the first two lines of standard input')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;token' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API token for automation (printed once, stored hashed)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your API tokens (`--all`: everyone''s, admins)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke one of your API tokens (admins: anyone''s)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;token;create' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'name')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Lifetime: a number and s, m, h or d (90d, 12h), or `never`; a token made with an API token never outlives it')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;token;list' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every user''s API tokens (admins)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;token;revoke' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API token for automation (printed once, stored hashed)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your API tokens (`--all`: everyone''s, admins)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke one of your API tokens (admins: anyone''s)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;token;help;create' {
            break
        }
        'popug;token;help;list' {
            break
        }
        'popug;token;help;revoke' {
            break
        }
        'popug;token;help;help' {
            break
        }
        'popug;user' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a user and their account; prints the temporary password once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every user')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One user')
            [CompletionResult]::new('set-role', 'set-role', [CompletionResultType]::ParameterValue, 'Change a user''s role; a worker''s open tasks go to other workers')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out')
            [CompletionResult]::new('reset-password', 'reset-password', [CompletionResultType]::ParameterValue, 'A new temporary password for someone, printed once; their sessions and tokens end')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;user;add' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'role')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'name')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'email')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'Where their notifications go')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;list' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;show' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;set-role' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;deactivate' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;reset-password' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;user;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a user and their account; prints the temporary password once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every user')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One user')
            [CompletionResult]::new('set-role', 'set-role', [CompletionResultType]::ParameterValue, 'Change a user''s role; a worker''s open tasks go to other workers')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out')
            [CompletionResult]::new('reset-password', 'reset-password', [CompletionResultType]::ParameterValue, 'A new temporary password for someone, printed once; their sessions and tokens end')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;user;help;add' {
            break
        }
        'popug;user;help;list' {
            break
        }
        'popug;user;help;show' {
            break
        }
        'popug;user;help;set-role' {
            break
        }
        'popug;user;help;deactivate' {
            break
        }
        'popug;user;help;reset-password' {
            break
        }
        'popug;user;help;help' {
            break
        }
        'popug;task' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a task; it is priced once and assigned to a random worker')
            [CompletionResult]::new('done', 'done', [CompletionResultType]::ParameterValue, 'Mark your task done (its number or id); the reward is credited at once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your open tasks; --all or --assignee for everyone''s (admins, managers)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One task (its number or id)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;task;create' {
            [CompletionResult]::new('--jira-id', '--jira-id', [CompletionResultType]::ParameterName, 'The task''s Jira id (e.g. POP-42), shown as `[POP-42]` before the title')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'More about the task, up to 10,000 characters')
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'A retried request with this key answers as the first time and creates nothing')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;task;done' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;task;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'status')
            [CompletionResult]::new('--assignee', '--assignee', [CompletionResultType]::ParameterName, 'assignee')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'all')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;task;show' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;task;import' {
            [CompletionResult]::new('--idempotency-key', '--idempotency-key', [CompletionResultType]::ParameterName, 'A retried import with this key creates only the rows not created yet, and answers as a complete import')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;task;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a task; it is priced once and assigned to a random worker')
            [CompletionResult]::new('done', 'done', [CompletionResultType]::ParameterValue, 'Mark your task done (its number or id); the reward is credited at once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your open tasks; --all or --assignee for everyone''s (admins, managers)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One task (its number or id)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;task;help;create' {
            break
        }
        'popug;task;help;done' {
            break
        }
        'popug;task;help;list' {
            break
        }
        'popug;task;help;show' {
            break
        }
        'popug;task;help;import' {
            break
        }
        'popug;task;help;help' {
            break
        }
        'popug;shuffle' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;pay-daily' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'The day to pay (default: today in the ledger''s timezone)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;balance' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every user''s balance')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;audit' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First billing date to show (YYYY-MM-DD)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last billing date to show (YYYY-MM-DD)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;earnings' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day (YYYY-MM-DD)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day (YYYY-MM-DD)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;analytics' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'The day to report on (default: today in the ledger''s timezone)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;export' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'First day (YYYY-MM-DD)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Last day (YYYY-MM-DD)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output (`-`: standard output)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output (`-`: standard output)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--bom', '--bom', [CompletionResultType]::ParameterName, 'Begin a CSV export with a UTF-8 byte order mark, which Excel needs to read it as UTF-8 (CSV exports only)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;events' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events after this seq (pass the last seq you have seen)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only events of this type (e.g. UserCreated); may be repeated')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new events as they are appended (until interrupted)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;verify' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;rebuild' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;schema' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;serve' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'The address and port to listen on (loopback unless you choose otherwise)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;hand-over' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;worker' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Catch up once and exit')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;ledger' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;ledger;copy' {
            [CompletionResult]::new('--replicas', '--replicas', [CompletionResultType]::ParameterName, 'For a nats:// destination: how many servers keep a copy of its stream')
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;ledger;help' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;ledger;help;copy' {
            break
        }
        'popug;ledger;help;help' {
            break
        }
        'popug;completions' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;man' {
            [CompletionResult]::new('--ledger', '--ledger', [CompletionResultType]::ParameterName, 'The ledger directory [default: ~/.local/share/popug]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (also POPUG_FORMAT); for `task import`, the input''s format (csv, jsonl)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout (same as --format json)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Plain output without colour (also NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'popug;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a ledger and its first admin; prints the admin''s temporary password once')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in: checks the password and saves a session for this OS user and ledger')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: ends the saved session')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Who is signed in')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Change your password')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'API tokens for automation (cron)')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Users: add, list, show, set-role, deactivate, reset-password')
            [CompletionResult]::new('task', 'task', [CompletionResultType]::ParameterValue, 'Tasks: create, done, list, show, import')
            [CompletionResult]::new('shuffle', 'shuffle', [CompletionResultType]::ParameterValue, 'Reassign every open task to a random worker (admins, managers)')
            [CompletionResult]::new('pay-daily', 'pay-daily', [CompletionResultType]::ParameterValue, 'Pay every positive balance at the end of a day (admins, accountants; cron)')
            [CompletionResult]::new('balance', 'balance', [CompletionResultType]::ParameterValue, 'A balance: yours, someone''s, or everyone''s')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'An account''s transactions with running balance, oldest first')
            [CompletionResult]::new('earnings', 'earnings', [CompletionResultType]::ParameterValue, 'Management earnings per day: fees charged minus rewards paid (admins, accountants)')
            [CompletionResult]::new('analytics', 'analytics', [CompletionResultType]::ParameterValue, 'A day''s earnings, workers in the red, and the most expensive task of the day, week and month (admins)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'CSV exports, or the accounting journal for hledger/ledger (admins, accountants)')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the log as JSON lines, exactly as stored (admins)')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every invariant of the ledger; exit 6 naming the first problem')
            [CompletionResult]::new('rebuild', 'rebuild', [CompletionResultType]::ParameterValue, 'Recreate the stores (views/*.db) from the log (admins)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM')
            [CompletionResult]::new('hand-over', 'hand-over', [CompletionResultType]::ParameterValue, 'Leave the reactions of these contexts (accounting, payments, notifications, all) to `popug worker`; with none, commands run every reaction again (admins)')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run the reactions of these contexts (accounting, payments, notifications, all) as the log grows, until SIGTERM (an admin''s API token)')
            [CompletionResult]::new('ledger', 'ledger', [CompletionResultType]::ParameterValue, 'The ledger as a whole: copy it to a new place (a directory or nats://)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page (roff): every subcommand and flag, or one command''s page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'popug;help;init' {
            break
        }
        'popug;help;login' {
            break
        }
        'popug;help;logout' {
            break
        }
        'popug;help;whoami' {
            break
        }
        'popug;help;passwd' {
            break
        }
        'popug;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API token for automation (printed once, stored hashed)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your API tokens (`--all`: everyone''s, admins)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke one of your API tokens (admins: anyone''s)')
            break
        }
        'popug;help;token;create' {
            break
        }
        'popug;help;token;list' {
            break
        }
        'popug;help;token;revoke' {
            break
        }
        'popug;help;user' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create a user and their account; prints the temporary password once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every user')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One user')
            [CompletionResult]::new('set-role', 'set-role', [CompletionResultType]::ParameterValue, 'Change a user''s role; a worker''s open tasks go to other workers')
            [CompletionResult]::new('deactivate', 'deactivate', [CompletionResultType]::ParameterValue, 'End someone''s work here: no sign-in, credentials revoked, open tasks handed over; their balance is still paid out')
            [CompletionResult]::new('reset-password', 'reset-password', [CompletionResultType]::ParameterValue, 'A new temporary password for someone, printed once; their sessions and tokens end')
            break
        }
        'popug;help;user;add' {
            break
        }
        'popug;help;user;list' {
            break
        }
        'popug;help;user;show' {
            break
        }
        'popug;help;user;set-role' {
            break
        }
        'popug;help;user;deactivate' {
            break
        }
        'popug;help;user;reset-password' {
            break
        }
        'popug;help;task' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a task; it is priced once and assigned to a random worker')
            [CompletionResult]::new('done', 'done', [CompletionResultType]::ParameterValue, 'Mark your task done (its number or id); the reward is credited at once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Your open tasks; --all or --assignee for everyone''s (admins, managers)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'One task (its number or id)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and assigned as by `task create`, in group-committed batches')
            break
        }
        'popug;help;task;create' {
            break
        }
        'popug;help;task;done' {
            break
        }
        'popug;help;task;list' {
            break
        }
        'popug;help;task;show' {
            break
        }
        'popug;help;task;import' {
            break
        }
        'popug;help;shuffle' {
            break
        }
        'popug;help;pay-daily' {
            break
        }
        'popug;help;balance' {
            break
        }
        'popug;help;audit' {
            break
        }
        'popug;help;earnings' {
            break
        }
        'popug;help;analytics' {
            break
        }
        'popug;help;export' {
            break
        }
        'popug;help;events' {
            break
        }
        'popug;help;verify' {
            break
        }
        'popug;help;rebuild' {
            break
        }
        'popug;help;schema' {
            break
        }
        'popug;help;serve' {
            break
        }
        'popug;help;hand-over' {
            break
        }
        'popug;help;worker' {
            break
        }
        'popug;help;ledger' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME')
            break
        }
        'popug;help;ledger;copy' {
            break
        }
        'popug;help;completions' {
            break
        }
        'popug;help;man' {
            break
        }
        'popug;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
