//! Exporting flow logs to Parquet from code: an ordered scan whose parts the
//! exporter writes in input order, then the check that every row was written.
//!
//! cargo run -p flowscan --features parquet --example export_from_code -- testdata/sample /tmp/flowscan-parquet

use flowscan::export::{self, ExportOptions};
use flowscan::{Input, Scanner};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = std::path::PathBuf::from(args.next().unwrap_or_else(|| "testdata/sample".into()));
    let out = args.next().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("flowscan-parquet")
            .to_string_lossy()
            .into_owned()
    });

    let found = flowscan::discover(&[Input::Path(input.clone())]);
    let scanner = Scanner::builder().build()?;
    let layouts = scanner.install(|| export::plan(&found, None));
    let mut opts = ExportOptions::new(&out);
    opts.overwrite = true;
    opts.default_region = Some("us-east-1".into());
    let (encoder, mut exporter) = export::start(opts, layouts, &[input])?;
    let scan = scanner.ordered(&found, &encoder, |part| exporter.commit(part))?;
    // `finish` fails unless every record taken was written.
    let summary = exporter.finish("s3://my-bucket/flowlogs/", scan.totals.matched)?;
    println!(
        "{} rows in {} files under {out}; the Athena table is in {out}/{}",
        summary.vpc_rows + summary.tgw_rows,
        summary.files.len(),
        export::DDL_FILES[0]
    );
    Ok(())
}
