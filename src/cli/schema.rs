//! `popug schema [TYPE[@V]]`: the event catalogue's JSON Schemas (CLI.md).

use serde_json::json;

use crate::cli::output::Out;
use crate::cli::report::{Human, Report};
use crate::error::{AppError, Kind, Result};

/// `schema`: every event type and version.
struct Catalogue(Vec<(&'static str, u32)>);

impl Report for Catalogue {
    const LIST: bool = true;
    fn document(&self) -> serde_json::Value {
        self.0.iter().map(|(t, v)| json!({"type": t, "v": v})).collect()
    }
    fn human(&self) -> Human {
        Human::table((
            vec!["type", "v"],
            self.0
                .iter()
                .map(|(t, v)| vec![t.to_string(), v.to_string()])
                .collect(),
        ))
    }
}

/// `popug schema [TYPE[@V]]`: one schema as JSON, or the catalogue (type, version).
pub fn schema(out: &mut Out, which: Option<String>) -> Result<()> {
    let all = crate::events::catalogue();
    let Some(which) = which else {
        let list: Vec<(&str, u32)> = all.iter().map(|(t, v, _)| (*t, *v)).collect();
        return out.report(&Catalogue(list));
    };
    if out.format == crate::cli::output::Format::Csv && out.explicit {
        return Err(
            AppError::usage("a JSON Schema is not a table: `schema TYPE` has no --format csv")
                .hint("drop --format csv; `popug schema --format csv` lists the catalogue"),
        );
    }
    let (name, version) = match which.split_once('@') {
        Some((n, v)) => (
            n,
            Some(
                v.parse::<u32>()
                    .map_err(|_| AppError::usage(format!("`{}` is not a version number", v)))?,
            ),
        ),
        None => (which.as_str(), None),
    };
    let found = all
        .iter()
        .filter(|(t, v, _)| *t == name && version.is_none_or(|want| want == *v))
        .max_by_key(|(_, v, _)| *v);
    match found {
        Some((_, _, schema)) => {
            out.raw(
                serde_json::to_string_pretty(schema)
                    .expect("a schema serializes")
                    .as_bytes(),
            )?;
            out.raw(b"\n")
        }
        None => Err(AppError::new(
            Kind::NotFound,
            "no_schema",
            format!("there is no event type `{}`", which),
        )
        .hint("`popug schema` lists every event type and version")),
    }
}
