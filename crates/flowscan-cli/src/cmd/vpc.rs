//! What `explain`, `rules` and `subnets` share: reading the saved
//! configuration that `--aws-config` names.

use std::sync::Arc;

use anyhow::Result;
use flowscan::vpc::VpcConfig;

use crate::args::{AwsConfigArgs, InputArgs};

/// Reads `--aws-config`. It takes every path after it: when no log path is
/// left and a configuration path does not read, the logs were probably
/// swallowed, and the error says so.
pub fn load(args: &AwsConfigArgs, input: &InputArgs) -> Result<Arc<VpcConfig>> {
    match flowscan::vpc::load(&args.aws_config) {
        Ok(cfg) => Ok(Arc::new(cfg)),
        Err(e) if input.paths.is_empty() && args.aws_config.len() > 1 => Err(anyhow::Error::new(e)
            .context("bad --aws-config (it takes every path after it: give the log paths first)")),
        Err(e) => Err(anyhow::Error::new(e).context("bad --aws-config")),
    }
}
