//! One module per subcommand, each with `run(args) -> Result<Exit>`.

pub mod rejects;
