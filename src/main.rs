//! The `popug` binary: everything lives in the library so tests can call the real entry point.

fn main() -> std::process::ExitCode {
    popug::run(std::env::args_os())
}
