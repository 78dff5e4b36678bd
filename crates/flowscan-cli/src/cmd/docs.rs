//! `flowscan completions SHELL` and `flowscan man`: generated from the same
//! definitions as `--help`, so they never drift from the flags.

use std::io::{self, Write};

use anyhow::Result;
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::Exit;

/// Prints the completion script for a shell.
pub fn completions(args: CompletionsArgs) -> Result<Exit> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "flowscan", &mut out);
    out.flush()?;
    Ok(Exit::Clean)
}

/// Prints the man page (roff): `flowscan man > flowscan.1`, or one
/// subcommand's (`flowscan man rejects > flowscan-rejects.1`).
pub fn man(args: ManArgs) -> Result<Exit> {
    let cmd = Cli::command();
    let page = match &args.command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone().bin_name(format!("flowscan {name}")),
            None => anyhow::bail!("`{name}` is not a flowscan command"),
        },
    };
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    out.flush()?;
    Ok(Exit::Clean)
}
