//! `flowscan athena-ddl`: the table for an export, printed.

use anyhow::{bail, Context, Result};
use flowscan::export::{athena, valid_account, valid_region, Dataset, Layout, Partition, UNKNOWN};
use flowscan::schema::{Column, Field, Schema};

use crate::args::{DdlArgs, PartitionArg};
use crate::Exit;

/// The partition layout a flag names.
pub fn partition(p: PartitionArg) -> Partition {
    match p {
        PartitionArg::None => Partition::None,
        PartitionArg::Day => Partition::Day,
        PartitionArg::Hour => Partition::Hour,
    }
}

/// Runs the command.
pub fn run(args: DdlArgs) -> Result<Exit> {
    let dataset = if args.tgw {
        Dataset::TransitGateway
    } else {
        Dataset::Vpc
    };
    let schema = match &args.fields {
        Some(list) => Schema::parse(list).context(crate::bad("fields"))?,
        None => {
            // Every field of the dataset: the TGW record has no action and no
            // interface-id, and VPC records have no TGW fields.
            let cols = Field::ALL
                .iter()
                .filter(|f| match dataset {
                    Dataset::Vpc => !f.is_tgw_only(),
                    Dataset::TransitGateway => tgw_field(**f),
                })
                .map(|f| Column::Known(*f))
                .collect();
            Schema::new(cols).context("field list")?
        }
    };
    athena::check_location(&args.location)
        .map_err(anyhow::Error::msg)
        .context(crate::bad("location"))?;
    for a in &args.account {
        if a != UNKNOWN && !valid_account(a.as_bytes()) {
            bail!(crate::BadArg(format!(
                "bad --account: {a:?} is not a 12-digit AWS account id (or `unknown`)"
            )));
        }
    }
    for r in &args.region {
        if r != UNKNOWN && !valid_region(r.as_bytes()) {
            bail!(crate::BadArg(format!(
                "bad --region: {r:?} is not an AWS region name such as us-east-1 (or `unknown`)"
            )));
        }
    }
    // The names an export gives the tables: with `IF NOT EXISTS`, the TGW
    // statement under the VPC table's name was a silent no-op.
    let table = args.table.as_deref().unwrap_or(dataset.table());
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || table.is_empty() {
        bail!(crate::BadArg(format!(
            "bad --table: {table:?}: use letters, digits and underscores"
        )));
    }
    let layout = Layout::union(dataset, [&schema]);
    let text = athena::ddl(
        &layout,
        &athena::TableSpec {
            table,
            location: &args.location,
            partition: partition(args.partition),
            accounts: &args.account,
            regions: &args.region,
        },
    );
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, text.as_bytes())?;
    std::io::Write::flush(&mut out)?;
    Ok(Exit::Clean)
}

/// Fields of the Transit Gateway record (AWS's TGW field table).
fn tgw_field(f: Field) -> bool {
    f.is_tgw_only()
        || matches!(
            f,
            Field::Version
                | Field::AccountId
                | Field::SrcAddr
                | Field::DstAddr
                | Field::SrcPort
                | Field::DstPort
                | Field::Protocol
                | Field::Packets
                | Field::Bytes
                | Field::Start
                | Field::End
                | Field::LogStatus
                | Field::Type
                | Field::TcpFlags
                | Field::Region
                | Field::FlowDirection
                | Field::PktSrcAwsService
                | Field::PktDstAwsService
        )
}
