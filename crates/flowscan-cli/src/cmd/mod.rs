//! One module per subcommand, each with `run(args) -> Result<Exit>`.

pub mod anomalies;
pub mod athena;
pub mod diagnose;
pub mod export;
pub mod filter;
pub mod rejects;
pub mod top;
