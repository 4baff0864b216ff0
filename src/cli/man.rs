//! `popug man`: the manual in roff, one page for popug and one for every subcommand, each
//! with all its flags (clap_mangen renders each page; this walks the command tree).

use crate::cli::output::io_error;
use crate::error::{AppError, Result};

/// The pages of `path` (empty: popug itself) and of every subcommand below it, one after
/// the other (`man -l -` shows them in turn). Exit 2 for a command that does not exist.
pub fn render(path: &[String]) -> Result<Vec<u8>> {
    let mut cmd = crate::cli::command();
    let mut names = vec![String::from("popug")];
    for part in path {
        let sub = cmd
            .get_subcommands()
            .find(|c| c.get_name() == part.as_str())
            .cloned();
        cmd = sub.ok_or_else(|| {
            AppError::usage(format!("`{} {part}` is not a command", names.join(" ")))
                .hint("`popug --help` lists the commands")
        })?;
        names.push(part.clone());
    }
    let mut out = Vec::new();
    page(&cmd, &mut names, &mut out)?;
    Ok(out)
}

/// Renders `cmd` as the page of the command `names` (`popug-task-create`, invoked as `popug
/// task create`), then the pages of its subcommands.
fn page(cmd: &clap::Command, names: &mut Vec<String>, out: &mut Vec<u8>) -> Result<()> {
    let named = cmd
        .clone()
        .name(names.join("-"))
        .bin_name(names.join(" "))
        .version(env!("CARGO_PKG_VERSION"));
    clap_mangen::Man::new(named).render(out).map_err(io_error)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        names.push(sub.get_name().to_owned());
        page(sub, names, out)?;
        names.pop();
    }
    Ok(())
}
