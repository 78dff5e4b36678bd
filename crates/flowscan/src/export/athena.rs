//! `CREATE EXTERNAL TABLE` statements for Athena, with partition projection.

use std::fmt::Write;

use super::layout::{Layout, PARTITION_COLUMNS};
use super::Partition;

/// What the DDL needs beyond the columns.
#[derive(Clone, Debug)]
pub struct TableSpec<'a> {
    /// Table name.
    pub table: &'a str,
    /// S3 location of the dataset's root: the folder holding `AWSLogs/`, under
    /// which the partition folders, or without partitions the files, are.
    pub location: &'a str,
    /// Partition layout.
    pub partition: Partition,
    /// Account ids for the `aws-account-id` projection (empty: injected by queries).
    pub accounts: &'a [String],
    /// Regions for the `aws-region` projection (empty: injected by queries).
    pub regions: &'a [String],
}

/// Whether `location` can go into the statement: an `s3://` URI without
/// quotes, backslashes, spaces or control characters.
pub fn check_location(location: &str) -> Result<(), String> {
    let ok = location.starts_with("s3://")
        && location.len() > "s3://".len()
        && !location
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '\'' | '\\' | '`'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{location:?} is not an S3 location for a table (s3://bucket/prefix/, without quotes or spaces)"
        ))
    }
}

/// The statement for a layout.
pub fn ddl(layout: &Layout, t: &TableSpec<'_>) -> String {
    let mut s = String::new();
    // Validated by check_location; quotes doubled all the same.
    let loc = t.location.trim_end_matches('/').replace('\'', "''");
    let _ = writeln!(s, "CREATE EXTERNAL TABLE IF NOT EXISTS `{}` (", t.table);
    let cols: Vec<String> = layout
        .columns
        .iter()
        .map(|c| format!("  `{}` {}", c.name, c.ty.athena()))
        .collect();
    s.push_str(&cols.join(",\n"));
    s.push_str("\n)\n");
    let hive = t.partition != Partition::None;
    // Daily partitions stop before `hour`.
    let parts =
        &PARTITION_COLUMNS[..PARTITION_COLUMNS.len() - usize::from(t.partition != Partition::Hour)];
    if hive {
        let cols: Vec<String> = parts.iter().map(|c| format!("  `{c}` string")).collect();
        let _ = writeln!(s, "PARTITIONED BY (\n{}\n)", cols.join(",\n"));
    }
    s.push_str("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n");
    s.push_str(
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n",
    );
    s.push_str("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n");
    let _ = writeln!(s, "LOCATION '{loc}/AWSLogs/'");
    if !hive {
        s.push_str("TBLPROPERTIES ('EXTERNAL'='true');\n");
        return s;
    }
    s.push_str("TBLPROPERTIES (\n  'EXTERNAL'='true',\n  'projection.enabled'='true',\n");
    let enum_or_injected = |s: &mut String, col: &str, values: &[String]| {
        if values.is_empty() {
            let _ = writeln!(s, "  'projection.{col}.type'='injected',");
        } else {
            let _ = writeln!(s, "  'projection.{col}.type'='enum',");
            let _ = writeln!(s, "  'projection.{col}.values'='{}',", values.join(","));
        }
    };
    enum_or_injected(&mut s, "aws-account-id", t.accounts);
    s.push_str("  'projection.aws-service.type'='enum',\n  'projection.aws-service.values'='vpcflowlogs',\n");
    enum_or_injected(&mut s, "aws-region", t.regions);
    // A year range that ends at NOW: next year's partitions appear without
    // regenerating the table.
    let _ = writeln!(
        s,
        "  'projection.year.type'='date',\n  'projection.year.format'='yyyy',\n  'projection.year.range'='{},NOW',\n  'projection.year.interval'='1',\n  'projection.year.interval.unit'='YEARS',",
        super::FIRST_YEAR
    );
    s.push_str("  'projection.month.type'='integer',\n  'projection.month.range'='1,12',\n  'projection.month.digits'='2',\n");
    s.push_str("  'projection.day.type'='integer',\n  'projection.day.range'='1,31',\n  'projection.day.digits'='2',\n");
    if t.partition == Partition::Hour {
        s.push_str("  'projection.hour.type'='integer',\n  'projection.hour.range'='0,23',\n  'projection.hour.digits'='2',\n");
    }
    let mut template = format!("{loc}/AWSLogs");
    for c in parts {
        let _ = write!(template, "/{c}=${{{c}}}");
    }
    let _ = writeln!(s, "  'storage.location.template'='{template}'\n);");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::layout::Dataset;
    use crate::schema::Schema;

    #[test]
    fn ddl_has_types_projection_and_quoted_end() {
        let l = Layout::union(Dataset::Vpc, [&Schema::default_v2()]);
        let accounts = ["123456789012".to_string()];
        let spec = TableSpec {
            table: "vpc_flow_logs",
            location: "s3://bucket/prefix/",
            partition: Partition::Hour,
            accounts: &accounts,
            regions: &[],
        };
        let d = ddl(&l, &spec);
        for want in [
            "CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (",
            "  `version` int,",
            "  `protocol` int,",
            "  `packets` bigint,",
            "  `end` bigint,",
            "  `log_status` string\n)",
            "`hour` string",
            "LOCATION 's3://bucket/prefix/AWSLogs/'",
            "'projection.aws-account-id.values'='123456789012'",
            "'projection.aws-region.type'='injected'",
            "'projection.year.range'='2015,NOW'",
            "PARTITIONED BY (\n  `aws-account-id` string,\n  `aws-service` string,\n  `aws-region` string,\n  `year` string,\n  `month` string,\n  `day` string,\n  `hour` string\n)\nROW FORMAT",
            "'storage.location.template'='s3://bucket/prefix/AWSLogs/aws-account-id=${aws-account-id}/aws-service=${aws-service}/aws-region=${aws-region}/year=${year}/month=${month}/day=${day}/hour=${hour}'\n);",
        ] {
            assert!(d.contains(want), "missing {want:?} in\n{d}");
        }
        let daily = ddl(
            &l,
            &TableSpec {
                partition: Partition::Day,
                ..spec
            },
        );
        assert!(!daily.contains("hour"), "{daily}");
        assert!(
            daily.contains("  `day` string\n)\nROW FORMAT")
                && daily.contains("/month=${month}/day=${day}'\n);"),
            "{daily}"
        );
    }

    #[test]
    fn locations_are_checked() {
        assert!(check_location("s3://bucket/prefix/").is_ok());
        for bad in [
            "bucket/prefix",
            "s3://",
            "s3://b/x' ; DROP",
            "s3://b/a b",
            "s3://b/\nx",
        ] {
            assert!(check_location(bad).is_err(), "{bad}");
        }
    }
}
