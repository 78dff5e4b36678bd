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

impl Layout {
    /// The union of the given formats' columns.
    pub fn union<'a>(dataset: Dataset, schemas: impl IntoIterator<Item = &'a Schema>) -> Layout {
        let mut known = crate::schema::FieldSet::EMPTY;
        let mut others: Vec<String> = Vec::new();
        for s in schemas {
            for c in s.columns() {
                match c {
                    Column::Known(f) => known.insert(*f),
                    Column::Other(name) => {
                        if !others.contains(name) {
                            others.push(name.clone());
                        }
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
            let out = name.replace('-', "_");
            // An unknown name that collides with a known column once underscored
            // keeps its own spelling.
            let out = if columns.iter().any(|c| c.name == out) {
                name.clone()
            } else {
                out
            };
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
