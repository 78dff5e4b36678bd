//! The `flowscan` command.

/// Writes a line to standard error, ignoring failure: a closed stderr (`2>&1 |
/// head`) must not turn a warning into a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod cmd;
mod config;
mod progress;
mod report;

use std::io;
use std::process::ExitCode;
use std::{error, fmt};

use clap::Parser;

/// Exit codes, part of the interface (documented in README and `--help`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every input was read to its end.
    Clean = 0,
    /// Nothing useful could be done (a configuration file that cannot be
    /// used, strict mode tripped, output failed).
    Error = 1,
    /// A bad command-line argument: one clap refused, or a value checked
    /// after parsing ([`BadArg`]).
    Usage = 2,
    /// Some input could not be read completely; results cover what was read.
    Incomplete = 3,
    /// No input could be used: every file was skipped or could not be read
    /// (or none was found), so the result is empty, not "nothing found".
    NothingRead = 4,
    /// Interrupted (Ctrl-C): 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            // Help, version and errors of the usual size go out as clap
            // writes them (colours as the terminal and NO_COLOR say).
            if !e.use_stderr() || !report::too_long(&text) {
                e.exit();
            }
            // One that quotes a huge value is cut, and left plain: a cut
            // could fall between a colour and its end.
            use std::io::Write as _;
            let _ = write!(io::stderr(), "{}", report::shorten(&text));
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let result = match cli.command {
        args::Command::Rejects(a) => cmd::rejects::run(a),
        args::Command::Export(a) => cmd::export::run(a),
        args::Command::AthenaDdl(a) => cmd::athena::run(a),
        args::Command::Top(a) => cmd::top::run(a),
        args::Command::Filter(a) => cmd::filter::run(a),
        args::Command::Diagnose(a) => cmd::diagnose::run(a),
        args::Command::Anomalies(a) => cmd::anomalies::run(a),
        args::Command::Explain(a) => cmd::explain::run(a),
        args::Command::Rules(a) => cmd::rules::run(a),
        args::Command::Subnets(a) => cmd::subnets::run(a),
        args::Command::Completions(a) => cmd::docs::completions(a),
        args::Command::Man(a) => cmd::docs::man(a),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let why = report::with_flags(&format!("{e:#}"));
            say!("flowscan: error: {}", report::shorten(&why));
            let code = if e.downcast_ref::<BadArg>().is_some() {
                Exit::Usage
            } else {
                Exit::Error
            };
            ExitCode::from(code as u8)
        }
    }
}

/// A flag's value that is checked after parsing (a query, a time, a field
/// list, an account id): an error like any other, but it exits 2, as the
/// values clap refuses do.
#[derive(Debug)]
pub struct BadArg(pub String);

impl fmt::Display for BadArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl error::Error for BadArg {}

/// `bad --FLAG`, as the context of the reason a value was refused.
pub fn bad(flag: &str) -> BadArg {
    BadArg(format!("bad --{flag}"))
}

/// A closed pipe on standard output (`flowscan ... | head`) is the reader's choice,
/// not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
