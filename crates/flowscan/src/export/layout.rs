//! The columns of an export: AWS's names and Parquet types, one schema per dataset.

use std::sync::Arc;

use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema, SchemaRef};

use crate::schema::{Column, Field, Kind, Schema};

/// Which table a record belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// VPC flow logs.
    Vpc,
    /// Transit Gateway flow logs (their own schema and partition root).
    TransitGateway,
}

impl Dataset {
    /// The dataset a format belongs to.
    pub fn of(schema: &Schema) -> Dataset {
        if schema.is_transit_gateway() {
            Dataset::TransitGateway
        } else {
            Dataset::Vpc
        }
    }

    /// The Athena table an export defines for it (`athena-ddl` too).
    pub fn table(self) -> &'static str {
        match self {
            Dataset::Vpc => "vpc_flow_logs",
            Dataset::TransitGateway => "tgw_flow_logs",
        }
    }

    /// Folder under the output root (`""` for VPC flow logs).
    pub fn root(self) -> &'static str {
        match self {
            Dataset::Vpc => "",
            Dataset::TransitGateway => "transit-gateway",
        }
    }
}

/// The Parquet type of a column, as AWS writes flow logs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// INT32 (version, ports, protocol, tcp_flags, traffic_path).
    Int32,
    /// INT64 (packets, bytes, start, end).
    Int64,
    /// UTF8 string (everything else, addresses included).
    Utf8,
}

impl ColumnType {
    /// The type of a known field.
    pub fn of(field: Field) -> ColumnType {
        match field.kind() {
            Kind::Int32 => ColumnType::Int32,
            Kind::Int64 => ColumnType::Int64,
            Kind::Text | Kind::Addr => ColumnType::Utf8,
        }
    }

    /// The Athena (Hive) type name.
    pub fn athena(self) -> &'static str {
        match self {
            ColumnType::Int32 => "int",
            ColumnType::Int64 => "bigint",
            ColumnType::Utf8 => "string",
        }
    }

    fn arrow(self) -> DataType {
        match self {
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Utf8 => DataType::Utf8,
        }
    }
}

/// One output column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutColumn {
    /// The source column (known field or header name).
    pub source: Column,
    /// The Parquet/Athena name (`interface_id`).
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
}

/// The columns of one dataset: every field present in any input file of it, known
/// fields in AWS's order, then unknown names in the order first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The dataset.
    pub dataset: Dataset,
    /// The columns in order.
    pub columns: Vec<OutColumn>,
}

/// The columns of Hive-style partition folders, outermost first (`hour` only
/// with hourly partitions), which no data column may be named (readers add
/// them to every row).
pub(super) const PARTITION_COLUMNS: [&str; 7] = [
    "aws-account-id",
    "aws-service",
    "aws-region",
    "year",
    "month",
    "day",
    "hour",
];

impl Layout {
    /// The union of the given formats' columns.
    pub fn union<'a>(dataset: Dataset, schemas: impl IntoIterator<Item = &'a Schema>) -> Layout {
        let cols: Vec<&Column> = schemas.into_iter().flat_map(|s| s.columns()).collect();
        Layout::of_columns(dataset, cols.into_iter())
    }

    fn of_columns<'a>(dataset: Dataset, cols: impl Iterator<Item = &'a Column>) -> Layout {
        let mut known = crate::schema::FieldSet::EMPTY;
        let mut others: Vec<String> = Vec::new();
        for c in cols {
            match c {
                Column::Known(f) => known.insert(*f),
                Column::Other(name) => {
                    if !others.contains(name) {
                        others.push(name.clone());
                    }
                }
            }
        }
        let mut columns: Vec<OutColumn> = known
            .iter()
            .map(|f| OutColumn {
                source: Column::Known(f),
                name: f.column_name(),
                ty: ColumnType::of(f),
            })
            .collect();
        for name in others {
            // Names are unique, ignoring case as Athena does, and none is a
            // partition column's: `foo-bar` beside `foo_bar`, or a field
            // named `year`, made files no reader opens and DDL Athena
            // refuses. The underscored name, else its own spelling, else
            // the underscored name numbered.
            let taken = |n: &str| {
                PARTITION_COLUMNS.iter().any(|p| p.eq_ignore_ascii_case(n))
                    || columns.iter().any(|c| c.name.eq_ignore_ascii_case(n))
            };
            let under = name.replace('-', "_");
            let out = [under.clone(), name.clone()]
                .into_iter()
                .chain((2..).map(|i| format!("{under}_{i}")))
                .find(|n| !taken(n))
                .expect("a free name");
            columns.push(OutColumn {
                source: Column::Other(name),
                name: out,
                ty: ColumnType::Utf8,
            });
        }
        Layout { dataset, columns }
    }

    /// The Arrow schema (every column nullable).
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(
            self.columns
                .iter()
                .map(|c| ArrowField::new(&c.name, c.ty.arrow(), true))
                .collect::<Vec<_>>(),
        ))
    }

    /// Whether every column of `schema` has an output column here.
    pub fn covers(&self, schema: &Schema) -> bool {
        schema
            .columns()
            .iter()
            .all(|c| self.columns.iter().any(|o| o.source == *c))
    }

    /// This layout widened by the columns of `schema` (known fields stay in
    /// AWS's order; new unknown names go after the ones already here).
    pub fn widened(&self, schema: &Schema) -> Layout {
        let mine = self.columns.iter().map(|c| &c.source);
        Layout::of_columns(self.dataset, mine.chain(schema.columns()))
    }

    /// For each output column, the column of `schema` that feeds it, if any.
    pub fn mapping(&self, schema: &Schema) -> Vec<Option<usize>> {
        self.columns
            .iter()
            .map(|c| match &c.source {
                Column::Known(f) => schema.column_of(*f),
                Column::Other(name) => schema
                    .columns()
                    .iter()
                    .position(|sc| matches!(sc, Column::Other(n) if n == name)),
            })
            .collect()
    }
}

/// A layout and its Arrow schema, as parts and writers share them.
#[derive(Debug)]
pub(crate) struct Registered {
    pub id: usize,
    pub layout: Layout,
    pub arrow: SchemaRef,
}

/// Every layout of an export: one per dataset to start with (from the files'
/// first headers), and a wider one each time a format appears that the latest
/// does not cover (a header in the middle of a file, standard input). Files
/// written before a widening keep their columns; Athena, Trino and Spark read
/// Parquet columns by name, and DuckDB with `union_by_name`.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    all: std::sync::Mutex<Vec<Arc<Registered>>>,
}

impl Registry {
    pub fn new(planned: Vec<Layout>) -> Registry {
        let r = Registry::default();
        for l in planned {
            r.push(l);
        }
        r
    }

    fn push(&self, layout: Layout) -> Arc<Registered> {
        let mut all = self.all.lock().unwrap_or_else(|p| p.into_inner());
        let reg = Arc::new(Registered {
            id: all.len(),
            arrow: layout.arrow_schema(),
            layout,
        });
        all.push(reg.clone());
        reg
    }

    /// The layout records of `schema` are written with.
    pub fn resolve(&self, schema: &Schema) -> Arc<Registered> {
        let ds = Dataset::of(schema);
        let latest = {
            let all = self.all.lock().unwrap_or_else(|p| p.into_inner());
            all.iter().rev().find(|r| r.layout.dataset == ds).cloned()
        };
        match latest {
            Some(r) if r.layout.covers(schema) => r,
            Some(r) => {
                let wider = r.layout.widened(schema);
                // Another thread may have widened it the same way meanwhile.
                let all = self.all.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(same) = all.iter().rev().find(|x| x.layout == wider) {
                    return same.clone();
                }
                drop(all);
                self.push(wider)
            }
            None => self.push(Layout::union(ds, [schema])),
        }
    }

    /// The widest layout of each dataset, for the table definitions.
    pub fn latest(&self) -> Vec<Layout> {
        let all = self.all.lock().unwrap_or_else(|p| p.into_inner());
        [Dataset::Vpc, Dataset::TransitGateway]
            .into_iter()
            .filter_map(|ds| all.iter().rev().find(|r| r.layout.dataset == ds))
            .map(|r| r.layout.clone())
            .collect()
    }

    /// How many layouts there are.
    pub fn len(&self) -> usize {
        self.all.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output names are unique ignoring case, and none is a partition
    /// column's: `foo-bar` and `foo_bar` were both `foo_bar` (a file no
    /// reader opens), and a field named `year` clashed with the partition.
    #[test]
    fn output_names_are_unique_and_never_a_partition_column() {
        let s = Schema::parse("version account-id foo-bar foo_bar year hour aws-region").unwrap();
        let l = Layout::union(Dataset::Vpc, [&s]);
        let names: Vec<&str> = l.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "version",
                "account_id",
                "foo_bar",
                "foo_bar_2",
                "year_2",
                "hour_2",
                "aws_region"
            ]
        );
    }

    #[test]
    fn union_orders_known_fields_as_aws_and_keeps_unknown_names() {
        let v2 = Schema::default_v2();
        let v5 = Schema::parse("srcaddr vpc-id flow-direction future-field version").unwrap();
        let l = Layout::union(Dataset::Vpc, [&v2, &v5]);
        let names: Vec<&str> = l.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(&names[..3], ["version", "account_id", "interface_id"]);
        assert!(names.contains(&"vpc_id") && names.contains(&"flow_direction"));
        assert_eq!(*names.last().unwrap(), "future_field");
        assert_eq!(l.columns[0].ty, ColumnType::Int32);
        let m = l.mapping(&v5);
        assert_eq!(m[0], Some(4));
        assert_eq!(m[1], None);
        assert_eq!(*m.last().unwrap(), Some(3));
    }

    #[test]
    fn the_registry_widens_for_formats_it_has_not_seen() {
        let v2 = Schema::default_v2();
        let v5 = Schema::parse("version vpc-id flow-direction srcaddr extra-thing").unwrap();
        let r = Registry::new(vec![Layout::union(Dataset::Vpc, [&v2])]);
        let a = r.resolve(&v2);
        assert_eq!(a.id, 0);
        let b = r.resolve(&v5);
        assert_eq!(b.id, 1);
        assert!(b.layout.covers(&v2) && b.layout.covers(&v5));
        // Once widened, every format of the dataset goes to the widest layout.
        assert_eq!(r.resolve(&v2).id, 1);
        let tgw = Schema::parse("resource-type tgw-id srcaddr").unwrap();
        assert_eq!(r.resolve(&tgw).layout.dataset, Dataset::TransitGateway);
        assert_eq!(r.latest().len(), 2);
    }
}
