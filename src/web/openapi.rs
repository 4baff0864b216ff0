//! The JSON API's description as OpenAPI 3.1, generated from [`ROUTES`]; `docs/openapi.json`
//! is this document, and `tests/web_api.rs` fails when the file, the router or CLI.md's
//! route table drifts from it.

use serde_json::{Value, json};

/// One route of the JSON API.
pub struct Route {
    pub method: &'static str,
    /// The path under the server, with `{name}` for a path parameter.
    pub path: &'static str,
    /// The command it runs, as CLI.md names it.
    pub command: &'static str,
    /// Who may call it (the command's roles).
    pub roles: &'static str,
    /// Query parameters: name, schema type, description.
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// The JSON body it takes, if any: its properties (name, type, required).
    pub body: Option<&'static [(&'static str, &'static str, bool)]>,
    /// What the answer is.
    pub answer: &'static str,
}

const DATE: &str = "a day, YYYY-MM-DD, in the ledger's timezone";

/// Every route, in CLI.md's order.
pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/api/v1/whoami",
        command: "whoami",
        roles: "any signed-in user",
        query: &[],
        body: None,
        answer: "`{\"login\",\"role\",…}`: the caller",
    },
    Route {
        method: "get",
        path: "/api/v1/tasks",
        command: "task list",
        roles: "any signed-in user; all=1 or assignee: admins, managers",
        query: &[
            ("all", "boolean", "every user's tasks (1 or true)"),
            ("status", "string", "open or done"),
            ("assignee", "string", "a login"),
        ],
        body: None,
        answer: "an array of tasks (`task list --json`)",
    },
    Route {
        method: "get",
        path: "/api/v1/tasks/{number}",
        command: "task show",
        roles: "the assignee; admins, managers, accountants",
        query: &[],
        body: None,
        answer: "one task (`task show --json`)",
    },
    Route {
        method: "post",
        path: "/api/v1/tasks",
        command: "task create",
        roles: "any signed-in user",
        query: &[],
        body: Some(&[
            ("title", "string", true),
            ("jira_id", "string", false),
            ("description", "string", false),
        ]),
        answer: "`{\"task_id\",\"number\",\"title\",\"jira_id\",\"assignee\",\"assign_fee_cents\",\"reward_cents\"}`; an `Idempotency-Key` header is `--idempotency-key`",
    },
    Route {
        method: "post",
        path: "/api/v1/tasks/{number}/done",
        command: "task done",
        roles: "the assignee",
        query: &[],
        body: None,
        answer: "`{\"task_id\",\"number\",\"reward_cents\",\"balance_cents\"}`",
    },
    Route {
        method: "post",
        path: "/api/v1/shuffle",
        command: "shuffle",
        roles: "admins, managers",
        query: &[],
        body: None,
        answer: "`{\"shuffle_id\",\"reassigned\",\"tasks\":[…]}`",
    },
    Route {
        method: "post",
        path: "/api/v1/pay-daily",
        command: "pay-daily",
        roles: "admins, accountants",
        query: &[],
        body: Some(&[("date", "string", false)]),
        answer: "`{\"date\",\"days\",\"payments\",\"total_cents\",\"already_paid\"}`",
    },
    Route {
        method: "get",
        path: "/api/v1/balances",
        command: "balance --all",
        roles: "admins, accountants",
        query: &[],
        body: None,
        answer: "`[{\"login\",\"balance_cents\"}]`",
    },
    Route {
        method: "get",
        path: "/api/v1/balances/{login}",
        command: "balance LOGIN",
        roles: "that user; admins, accountants",
        query: &[],
        body: None,
        answer: "`{\"login\",\"balance_cents\"}`",
    },
    Route {
        method: "get",
        path: "/api/v1/audit/{login}",
        command: "audit LOGIN",
        roles: "that user; admins, accountants",
        query: &[("from", "string", DATE), ("to", "string", DATE)],
        body: None,
        answer: "the account's transactions with running balance, oldest first (`audit --json`)",
    },
    Route {
        method: "get",
        path: "/api/v1/earnings",
        command: "earnings",
        roles: "admins, accountants",
        query: &[("from", "string", DATE), ("to", "string", DATE)],
        body: None,
        answer: "`[{\"date\",\"fees_cents\",\"rewards_cents\",\"earnings_cents\"}]`",
    },
    Route {
        method: "get",
        path: "/api/v1/analytics",
        command: "analytics",
        roles: "admins",
        query: &[("date", "string", DATE)],
        body: None,
        answer: "`{\"date\",\"earnings_cents\",\"negative_workers\",\"most_expensive_task\":{\"day\",\"week\",\"month\"}}`",
    },
    Route {
        method: "get",
        path: "/api/v1/events",
        command: "events",
        roles: "admins",
        query: &[
            ("since", "integer", "only events with a greater seq"),
            ("type", "string", "only events of this type (repeatable)"),
        ],
        body: None,
        answer: "the log as JSON lines (`application/x-ndjson`), password hashes redacted; with `Accept: text/event-stream`, followed live as server-sent events (`id` = seq)",
    },
    Route {
        method: "get",
        path: "/healthz",
        command: "(none)",
        roles: "no sign-in",
        query: &[],
        body: None,
        answer: "`{\"ok\":true,\"head\":SEQ}`",
    },
];

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut parameters: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(r.query.iter().map(|(name, kind, description)| {
            json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": kind}})
        }));
        let mut op = json!({
            "summary": format!("popug {}", r.command),
            "description": format!("Runs `popug {}` as the caller. Allowed: {}.", r.command, r.roles),
            "operationId": format!("{}{}", r.method, r.path.replace(['/', '{', '}', '-'], "_")),
            "responses": {
                "200": {"description": r.answer, "content": {"application/json": {"schema": {}}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"},
                "500": {"$ref": "#/components/responses/Error"},
            },
        });
        if !parameters.is_empty() {
            op["parameters"] = parameters.into();
        }
        if r.path == "/healthz" {
            op["security"] = json!([]);
        }
        if let Some(props) = r.body {
            let properties: serde_json::Map<String, Value> = props
                .iter()
                .map(|(n, t, _)| (n.to_string(), json!({"type": t})))
                .collect();
            let required: Vec<&str> = props.iter().filter(|p| p.2).map(|p| p.0).collect();
            op["requestBody"] = json!({"required": !required.is_empty(), "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": false, "properties": properties, "required": required}}}});
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "popug JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Served by `popug serve` under /api/v1/. Each route answers as the matching command's `--json` (docs/CLI.md), with the same roles and rules; a refused write writes nothing. Errors are `{\"error\":{\"code\",\"message\",\"hint\"?}}`; exit codes 2/3/4/5/6 become 400/401 or 403/404/409/500.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "an API token (`popug token create`) or a session token (`popug login --print-token`)"}},
            "responses": {"Error": {"description": "the command's refusal", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}}}}}}}},
        },
    })
}
