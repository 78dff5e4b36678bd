//! Field names, their types, and the schema a header line declares.
//!
//! A flow log file names its fields in its first line; records are then read by
//! position *through* that header. [`Schema`] maps each [`Field`] to its column so
//! that lookups by field are one array index on the hot path.

use std::fmt;

/// How a field's text decodes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Kept as text (ids, names, enums such as `ACCEPT`).
    Text,
    /// An IPv4 or IPv6 address.
    Addr,
    /// An integer AWS stores as 32-bit in Parquet (ports, protocol, flags).
    Int32,
    /// An integer AWS stores as 64-bit in Parquet (counters and times).
    Int64,
}

macro_rules! fields {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $kind:ident, $version:literal, $tgw:literal; )*) => {
        /// A flow log field known to flowscan: every VPC field of versions 2 to 10 and
        /// the Transit Gateway fields.
        ///
        /// Header names that are not in this list are kept as opaque text columns
        /// (AWS adds fields over time); see [`Column::Other`].
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Field {
            $( $(#[$doc])* $variant, )*
        }

        impl Field {
            /// Every known field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The field's name as AWS writes it in headers (`interface-id`).
            pub const fn name(self) -> &'static str {
                match self { $(Field::$variant => $name,)* }
            }

            /// How the field's text decodes.
            pub const fn kind(self) -> Kind {
                match self { $(Field::$variant => Kind::$kind,)* }
            }

            /// The flow log version that introduced the field (6 for Transit Gateway fields).
            pub const fn version(self) -> u8 {
                match self { $(Field::$variant => $version,)* }
            }

            /// Whether the field belongs only to Transit Gateway flow logs.
            pub const fn is_tgw_only(self) -> bool {
                match self { $(Field::$variant => $tgw,)* }
            }

            /// Looks a header name up; `None` for names flowscan does not know.
            pub fn from_name(name: &[u8]) -> Option<Field> {
                match name {
                    $( n if n == $name.as_bytes() => Some(Field::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    /// Flow log format version.
    Version = "version", Int32, 2, false;
    /// Account that owns the source interface (may be `unknown`).
    AccountId = "account-id", Text, 2, false;
    /// Network interface id (`eni-…`).
    InterfaceId = "interface-id", Text, 2, false;
    /// Source address.
    SrcAddr = "srcaddr", Addr, 2, false;
    /// Destination address.
    DstAddr = "dstaddr", Addr, 2, false;
    /// Source port.
    SrcPort = "srcport", Int32, 2, false;
    /// Destination port.
    DstPort = "dstport", Int32, 2, false;
    /// IANA protocol number.
    Protocol = "protocol", Int32, 2, false;
    /// Packets in the window.
    Packets = "packets", Int64, 2, false;
    /// Bytes in the window.
    Bytes = "bytes", Int64, 2, false;
    /// Unix seconds of the first packet in the window.
    Start = "start", Int64, 2, false;
    /// Unix seconds of the last packet in the window.
    End = "end", Int64, 2, false;
    /// `ACCEPT` or `REJECT`.
    Action = "action", Text, 2, false;
    /// `OK`, `NODATA` or `SKIPDATA`.
    LogStatus = "log-status", Text, 2, false;
    /// VPC id.
    VpcId = "vpc-id", Text, 3, false;
    /// Subnet id.
    SubnetId = "subnet-id", Text, 3, false;
    /// Instance id.
    InstanceId = "instance-id", Text, 3, false;
    /// OR of the TCP flags seen (FIN 1, SYN 2, RST 4, SYN-ACK 18).
    TcpFlags = "tcp-flags", Int32, 3, false;
    /// `IPv4`, `IPv6` or `EFA`.
    Type = "type", Text, 3, false;
    /// Packet-level source address.
    PktSrcAddr = "pkt-srcaddr", Addr, 3, false;
    /// Packet-level destination address.
    PktDstAddr = "pkt-dstaddr", Addr, 3, false;
    /// Region of the interface.
    Region = "region", Text, 4, false;
    /// Availability zone id.
    AzId = "az-id", Text, 4, false;
    /// `wavelength`, `outpost` or `localzone`.
    SublocationType = "sublocation-type", Text, 4, false;
    /// Id of the sublocation.
    SublocationId = "sublocation-id", Text, 4, false;
    /// AWS service owning the source address range.
    PktSrcAwsService = "pkt-src-aws-service", Text, 5, false;
    /// AWS service owning the destination address range.
    PktDstAwsService = "pkt-dst-aws-service", Text, 5, false;
    /// `ingress` or `egress`.
    FlowDirection = "flow-direction", Text, 5, false;
    /// Egress path code (1 to 8).
    TrafficPath = "traffic-path", Int32, 5, false;
    /// ECS cluster ARN.
    EcsClusterArn = "ecs-cluster-arn", Text, 7, false;
    /// ECS cluster name.
    EcsClusterName = "ecs-cluster-name", Text, 7, false;
    /// ECS container instance ARN.
    EcsContainerInstanceArn = "ecs-container-instance-arn", Text, 7, false;
    /// ECS container instance id.
    EcsContainerInstanceId = "ecs-container-instance-id", Text, 7, false;
    /// ECS container id.
    EcsContainerId = "ecs-container-id", Text, 7, false;
    /// ECS second container id.
    EcsSecondContainerId = "ecs-second-container-id", Text, 7, false;
    /// ECS service name.
    EcsServiceName = "ecs-service-name", Text, 7, false;
    /// ECS task definition ARN.
    EcsTaskDefinitionArn = "ecs-task-definition-arn", Text, 7, false;
    /// ECS task ARN.
    EcsTaskArn = "ecs-task-arn", Text, 7, false;
    /// ECS task id.
    EcsTaskId = "ecs-task-id", Text, 7, false;
    /// Why a REJECT happened, when AWS knows (`BPA`).
    RejectReason = "reject-reason", Text, 8, false;
    /// Id of the resource the record is for.
    ResourceId = "resource-id", Text, 9, false;
    /// 0 clear, 1 Nitro-encrypted, 2 application-encrypted, 3 both.
    EncryptionStatus = "encryption-status", Int32, 10, false;
    /// Transit Gateway record type (`TransitGateway`).
    ResourceType = "resource-type", Text, 6, true;
    /// Transit Gateway id.
    TgwId = "tgw-id", Text, 6, true;
    /// Transit Gateway attachment id.
    TgwAttachmentId = "tgw-attachment-id", Text, 6, true;
    /// Account of the source VPC.
    TgwSrcVpcAccountId = "tgw-src-vpc-account-id", Text, 6, true;
    /// Account of the destination VPC.
    TgwDstVpcAccountId = "tgw-dst-vpc-account-id", Text, 6, true;
    /// Source VPC id.
    TgwSrcVpcId = "tgw-src-vpc-id", Text, 6, true;
    /// Destination VPC id.
    TgwDstVpcId = "tgw-dst-vpc-id", Text, 6, true;
    /// Source subnet id.
    TgwSrcSubnetId = "tgw-src-subnet-id", Text, 6, true;
    /// Destination subnet id.
    TgwDstSubnetId = "tgw-dst-subnet-id", Text, 6, true;
    /// Source ENI.
    TgwSrcEni = "tgw-src-eni", Text, 6, true;
    /// Destination ENI.
    TgwDstEni = "tgw-dst-eni", Text, 6, true;
    /// Source availability zone id.
    TgwSrcAzId = "tgw-src-az-id", Text, 6, true;
    /// Destination availability zone id.
    TgwDstAzId = "tgw-dst-az-id", Text, 6, true;
    /// Attachment on the other side of the pair.
    TgwPairAttachmentId = "tgw-pair-attachment-id", Text, 6, true;
    /// Packets lost: no route.
    PacketsLostNoRoute = "packets-lost-no-route", Int64, 6, true;
    /// Packets lost: blackhole route.
    PacketsLostBlackhole = "packets-lost-blackhole", Int64, 6, true;
    /// Packets lost: MTU exceeded.
    PacketsLostMtuExceeded = "packets-lost-mtu-exceeded", Int64, 6, true;
    /// Packets lost: TTL expired.
    PacketsLostTtlExpired = "packets-lost-ttl-expired", Int64, 6, true;
}

/// Number of known fields; sizes per-field lookup tables.
pub const FIELD_COUNT: usize = Field::ALL.len();

impl Field {
    /// The column name AWS uses in Parquet and Athena (`interface_id`).
    pub fn column_name(self) -> String {
        self.name().replace('-', "_")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The fields of the default format (version 2), in order.
pub const DEFAULT_FIELDS: [Field; 14] = [
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::SrcAddr,
    Field::DstAddr,
    Field::SrcPort,
    Field::DstPort,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
];

/// A set of [`Field`]s, used to say which fields a query reads.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldSet(u64);

const _: () = assert!(FIELD_COUNT <= 64, "FieldSet is one u64");

impl FieldSet {
    /// The empty set.
    pub const EMPTY: FieldSet = FieldSet(0);

    /// Every known field.
    pub const ALL: FieldSet = FieldSet(if FIELD_COUNT == 64 {
        u64::MAX
    } else {
        (1u64 << FIELD_COUNT) - 1
    });

    /// A set of the given fields.
    pub const fn of(fields: &[Field]) -> FieldSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < fields.len() {
            bits |= 1 << fields[i] as u8;
            i += 1;
        }
        FieldSet(bits)
    }

    /// Adds a field.
    pub fn insert(&mut self, field: Field) {
        self.0 |= 1 << field as u8;
    }

    /// Whether the set holds `field`.
    pub const fn contains(self, field: Field) -> bool {
        self.0 & (1 << field as u8) != 0
    }

    /// The union of two sets.
    pub const fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The fields in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(move |f| self.contains(*f))
    }
}

/// One column of a schema: a known field, or a header name flowscan does not know.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// A field flowscan knows and types.
    Known(Field),
    /// A header name flowscan does not know, kept as text.
    Other(String),
}

impl Column {
    /// The name as written in the header.
    pub fn name(&self) -> &str {
        match self {
            Column::Known(f) => f.name(),
            Column::Other(s) => s,
        }
    }
}

/// Why a header or field list was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The list is empty.
    #[error("the field list is empty")]
    Empty,
    /// A token is not a field name (letters, digits and `-`).
    #[error("`{0}` is not a field name")]
    BadName(String),
    /// A field is named twice.
    #[error("field `{0}` is named twice")]
    Duplicate(String),
    /// More columns than flowscan supports.
    #[error("{0} fields is more than the {MAX_COLUMNS} supported")]
    TooMany(usize),
    /// No name in the list is a known flow log field.
    #[error("none of the names is a flow log field")]
    NoKnownField,
}

/// The most columns a schema may have; real formats have at most about 60.
pub const MAX_COLUMNS: usize = 128;

/// Marks a field absent from a schema in [`Schema`]'s lookup table.
const ABSENT: u8 = u8::MAX;

/// The fields of one file (or one stretch of a stream), in column order.
#[derive(Clone, Debug)]
pub struct Schema {
    columns: Vec<Column>,
    index: [u8; FIELD_COUNT],
    /// Unique per construction (clones share it): lets consumers cache work per
    /// schema without holding it or comparing columns per record.
    id: u64,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.columns == other.columns
    }
}

impl Eq for Schema {}

static NEXT_SCHEMA_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Schema {
    /// Builds a schema from columns; refuses duplicates, empty lists and lists
    /// with no known field.
    pub fn new(columns: Vec<Column>) -> Result<Schema, SchemaError> {
        if columns.is_empty() {
            return Err(SchemaError::Empty);
        }
        if columns.len() > MAX_COLUMNS {
            return Err(SchemaError::TooMany(columns.len()));
        }
        let mut index = [ABSENT; FIELD_COUNT];
        let mut others = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            match c {
                Column::Known(f) => {
                    if index[*f as usize] != ABSENT {
                        return Err(SchemaError::Duplicate(f.name().to_string()));
                    }
                    index[*f as usize] = i as u8;
                }
                Column::Other(name) => {
                    if others.contains(&name) {
                        return Err(SchemaError::Duplicate(name.clone()));
                    }
                    others.push(name);
                }
            }
        }
        if index.iter().all(|&i| i == ABSENT) {
            return Err(SchemaError::NoKnownField);
        }
        Ok(Schema {
            columns,
            index,
            id: NEXT_SCHEMA_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// An id unique to this schema and its clones.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The default (version 2) format.
    pub fn default_v2() -> Schema {
        Schema::new(DEFAULT_FIELDS.iter().map(|f| Column::Known(*f)).collect())
            .expect("the default format is a valid schema")
    }

    /// Parses a space-separated field list, as in a header line or `--fields`.
    /// The word `default` stands for the default format.
    pub fn parse(list: &str) -> Result<Schema, SchemaError> {
        let list = list.trim();
        if list == "default" {
            return Ok(Schema::default_v2());
        }
        Schema::from_header(list.as_bytes())
    }

    /// Parses a header line (field names separated by runs of spaces; a trailing
    /// `\r` is ignored). Names written with `_` (`interface_id`, as in Parquet) are
    /// accepted for known fields.
    pub fn from_header(line: &[u8]) -> Result<Schema, SchemaError> {
        let names = header_names(line)?;
        let columns = names
            .into_iter()
            .map(|name| match Schema::known_name(name) {
                Some(f) => Column::Known(f),
                None => Column::Other(String::from_utf8_lossy(name).into_owned()),
            })
            .collect();
        Schema::new(columns)
    }

    /// The columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of columns, which is the token count every record must have.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Always false: a schema has at least one column.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column of a field, if the schema has it.
    #[inline]
    pub fn column_of(&self, field: Field) -> Option<usize> {
        match self.index[field as usize] {
            ABSENT => None,
            i => Some(i as usize),
        }
    }

    /// Whether the schema has a field.
    pub fn has(&self, field: Field) -> bool {
        self.column_of(field).is_some()
    }

    /// The known fields of the schema.
    pub fn fields(&self) -> FieldSet {
        let mut set = FieldSet::EMPTY;
        for c in &self.columns {
            if let Column::Known(f) = c {
                set.insert(*f);
            }
        }
        set
    }

    /// Whether this is a Transit Gateway flow log format: it has TGW-only fields,
    /// or it has `resource-type`, and no `interface-id`.
    pub fn is_transit_gateway(&self) -> bool {
        !self.has(Field::InterfaceId)
            && self
                .columns
                .iter()
                .any(|c| matches!(c, Column::Known(f) if f.is_tgw_only()))
    }

    /// The header line for this schema (names separated by single spaces).
    pub fn header_line(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(Column::name).collect();
        names.join(" ")
    }
}

impl Schema {
    /// Looks a header or column name up, accepting `_` for `-` (`interface_id`,
    /// as in Parquet and Athena).
    pub fn known_name(name: &[u8]) -> Option<Field> {
        Field::from_name(name).or_else(|| {
            if name.contains(&b'_') {
                let dashed: Vec<u8> = name
                    .iter()
                    .map(|&b| if b == b'_' { b'-' } else { b })
                    .collect();
                Field::from_name(&dashed)
            } else {
                None
            }
        })
    }
}

/// Splits a header into names with nom: `name (sep+ name)* sep*`, where a name is
/// a lowercase letter followed by lowercase letters, digits, `-` or `_`, and a
/// separator is a space or a tab (as between the fields of a record).
fn header_names(line: &[u8]) -> Result<Vec<&[u8]>, SchemaError> {
    use nom::bytes::complete::{take_while, take_while1};
    use nom::character::complete::satisfy;
    use nom::combinator::recognize;
    use nom::multi::separated_list1;
    use nom::sequence::pair;
    use nom::Parser;

    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let sep = |b: u8| b == b' ' || b == b'\t';
    let start = line.iter().position(|&b| !sep(b)).unwrap_or(line.len());
    let line = &line[start..];
    if line.iter().all(|&b| sep(b)) {
        return Err(SchemaError::Empty);
    }
    let name = recognize(pair(
        satisfy(|c| c.is_ascii_lowercase()),
        take_while(|b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
    ));
    let spaces = take_while1(sep);
    let parsed: nom::IResult<&[u8], Vec<&[u8]>> = separated_list1(spaces, name).parse(line);
    match parsed {
        Ok((rest, names)) if rest.iter().all(|&b| sep(b)) => Ok(names),
        Ok((rest, _)) | Err(nom::Err::Error(nom::error::Error { input: rest, .. })) => {
            let bad = rest
                .split(|&b| sep(b))
                .find(|t| !t.is_empty())
                .unwrap_or(rest);
            Err(SchemaError::BadName(
                String::from_utf8_lossy(bad).into_owned(),
            ))
        }
        Err(_) => Err(SchemaError::Empty),
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_its_name() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name().as_bytes()), Some(*f));
        }
        assert_eq!(Field::from_name(b"no-such-field"), None);
        assert_eq!(Field::InterfaceId.column_name(), "interface_id");
    }

    #[test]
    fn default_schema_maps_columns() {
        let s = Schema::default_v2();
        assert_eq!(s.len(), 14);
        assert_eq!(s.column_of(Field::Version), Some(0));
        assert_eq!(s.column_of(Field::LogStatus), Some(13));
        assert_eq!(s.column_of(Field::VpcId), None);
        assert!(!s.is_transit_gateway());
    }

    #[test]
    fn custom_order_and_unknown_names() {
        let s = Schema::parse("action bytes future-field srcaddr").unwrap();
        assert_eq!(s.column_of(Field::Action), Some(0));
        assert_eq!(s.column_of(Field::SrcAddr), Some(3));
        assert_eq!(s.columns()[2], Column::Other("future-field".into()));
    }

    #[test]
    fn refuses_bad_lists() {
        assert_eq!(Schema::parse(""), Err(SchemaError::Empty));
        assert_eq!(
            Schema::parse("srcaddr srcaddr"),
            Err(SchemaError::Duplicate("srcaddr".into()))
        );
        assert_eq!(Schema::parse("foo bar"), Err(SchemaError::NoKnownField));
        assert!(matches!(
            Schema::parse("srcaddr 10.0.0.1"),
            Err(SchemaError::BadName(_))
        ));
    }

    #[test]
    fn headers_tolerate_runs_of_spaces_crlf_and_underscores() {
        let s = Schema::from_header(b"  version  interface_id srcaddr \r").unwrap();
        assert_eq!(s.column_of(Field::InterfaceId), Some(1));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn record_lines_are_not_headers() {
        let line = b"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
        assert!(Schema::from_header(line).is_err());
        assert!(Schema::from_header(b"eni-abc ACCEPT").is_err());
        assert!(Schema::from_header(b"bogus line").is_err());
    }

    #[test]
    fn transit_gateway_formats_are_recognised() {
        let s = Schema::parse("version resource-type tgw-id srcaddr dstaddr packets").unwrap();
        assert!(s.is_transit_gateway());
    }

    #[test]
    fn field_sets() {
        let mut s = FieldSet::of(&[Field::Action, Field::Bytes]);
        assert!(s.contains(Field::Action) && !s.contains(Field::SrcAddr));
        s.insert(Field::SrcAddr);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Field::SrcAddr, Field::Bytes, Field::Action]
        );
    }
}
