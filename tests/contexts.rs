//! The bounded contexts own their state (DESIGN §3, issue "make the contexts real"): each
//! context's code names only its own store's tables, and only `src/read.rs` opens a
//! connection that sees several stores. These tests read the source, so that a shortcut
//! through another context's table fails here, not in production on another host.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every table of every store, and the store that owns it: built the way the engine builds
/// the stores (each projection's `migrate`), so a new table is covered without listing it.
fn owners() -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for store in popug::app::subscribers(Path::new("/nonexistent")).stores {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        for p in &store.projections {
            p.migrate(&db).unwrap();
        }
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in tables {
            let before = owners.insert(t.clone(), store.name.clone());
            assert!(
                before.is_none(),
                "table `{t}` is in two stores: every table has one owner"
            );
        }
    }
    owners
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue; // a context without a folder in this tree
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The tables `source` names in SQL (after FROM, JOIN, INTO, UPDATE, TABLE or ON), with the
/// line they are on.
fn tables_named(source: &str, owners: &BTreeMap<String, String>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            if ["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "EXISTS"].contains(&pair[0])
                && owners.contains_key(pair[1])
            {
                found.push((i + 1, pair[1].to_owned()));
            }
        }
    }
    found
}

/// Every place a context's code names a table of another context's store.
fn trespasses(root: &Path, owners: &BTreeMap<String, String>) -> Vec<String> {
    let stores: Vec<String> = popug::app::subscribers(Path::new("/nonexistent"))
        .stores
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut out = Vec::new();
    for context in &stores {
        for file in rust_files(&root.join("src").join(context)) {
            let source = std::fs::read_to_string(&file).unwrap();
            for (line, table) in tables_named(&source, owners) {
                if &owners[&table] != context {
                    out.push(format!(
                        "{}:{line}: the {context} context names `{table}`, a table of the {} store",
                        file.display(),
                        owners[&table]
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn no_context_names_another_contexts_table() {
    let owners = owners();
    // every context has a store, and every store has tables
    for store in common::STORES {
        assert!(
            owners.values().any(|s| s == store),
            "the {store} store has no tables"
        );
    }
    let found = trespasses(Path::new(env!("CARGO_MANIFEST_DIR")), &owners);
    assert!(
        found.is_empty(),
        "cross-context reads outside src/read.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_guard_sees_a_trespass() {
    // the check above can fail: a context that read another's table would be named
    let owners = owners();
    let tmp = tempfile::tempdir().unwrap();
    let accounting = tmp.path().join("src/accounting");
    std::fs::create_dir_all(&accounting).unwrap();
    std::fs::write(
        accounting.join("mod.rs"),
        "fn f(db: &Connection) { db.query_row(\"SELECT reward FROM tasks WHERE task_id = ?1\", ...) }\n\
         // the tasks of a user (a word in a comment is not SQL)\n",
    )
    .unwrap();
    let found = trespasses(tmp.path(), &owners);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("names `tasks`, a table of the tasks store"),
        "{found:?}"
    );
}

#[test]
fn only_the_read_place_opens_a_connection_to_every_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    for file in rust_files(&root.join("src")) {
        if file.ends_with("src/read.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for needle in [".snapshot()", ".reader()", ".attach_all(", "ATTACH DATABASE"] {
            if source.contains(needle) {
                offenders.push(format!("{} uses {needle}", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
    let read = std::fs::read_to_string(root.join("src/read.rs")).unwrap();
    assert!(
        read.contains(".snapshot()"),
        "src/read.rs is where stores are read together"
    );
}
