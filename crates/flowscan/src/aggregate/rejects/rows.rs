//! What `rejects` reports: rows, the report, and how values are shown.

use serde::Serialize;

/// How an over-budget result is approximate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Approximation {
    /// The memory budget, in bytes.
    pub budget: usize,
    /// A group's record count may be low by at most this much (groups with
    /// fewer records were dropped, and may have come back later).
    pub records_low_by_at_most: u64,
    /// Distinct counts are estimated from 1 address in this many.
    pub distinct_sampled_one_in: u64,
    /// A group's sum may be low by at most this much (reports ranked by a sum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum_low_by_at_most: Option<u64>,
}

/// Common columns of every hotspot row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RowStats {
    /// REJECT records.
    pub records: u64,
    /// Packets in those records.
    pub packets: u64,
    /// Bytes in those records.
    pub bytes: u64,
    /// Earliest `start` (Unix seconds).
    #[serde(serialize_with = "crate::display::ser_time")]
    pub first_seen: Option<u64>,
    /// Latest `end` (Unix seconds).
    #[serde(serialize_with = "crate::display::ser_time")]
    pub last_seen: Option<u64>,
    /// Records with `flow-direction` ingress (`None` when the logs do not
    /// carry the field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<u64>,
    /// Records with `flow-direction` egress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<u64>,
}

impl RowStats {
    /// `ingress`, `egress`, `ingress 12, egress 3`, or `-` when no record of
    /// the row said (or the logs do not carry `flow-direction`).
    pub fn direction(&self) -> String {
        match (self.ingress.unwrap_or(0), self.egress.unwrap_or(0)) {
            (0, 0) => "-".into(),
            (_, 0) => "ingress".into(),
            (0, _) => "egress".into(),
            (i, e) => format!("ingress {i}, egress {e}"),
        }
    }
}

/// A row of the top-interfaces table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EniRow {
    /// The interface id, `-` for records without one.
    pub interface_id: String,
    /// Distinct source addresses rejected on it.
    pub distinct_sources: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// A row of the top-ports table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortRow {
    /// Destination port (`None` for `-`).
    pub port: Option<u16>,
    /// IANA protocol number (`None` for `-`).
    pub protocol: Option<u8>,
    /// `22/tcp`-style label.
    pub label: String,
    /// Distinct source addresses rejected on this port.
    pub distinct_sources: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// A row of the top-destinations table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DstRow {
    /// The destination address (`10.0.1.5`), network (`10.0.1.0/24`, when
    /// destinations are rolled up), or `-` for records without one.
    pub destination: String,
    /// Distinct source addresses rejected on their way to it.
    pub distinct_sources: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// A row of the top-source-networks table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetRow {
    /// The network, `203.0.113.0/24`, or `-` for records without a source.
    pub cidr: String,
    /// Distinct destination addresses it was rejected on.
    pub distinct_destinations: u64,
    /// Sums.
    #[serde(flatten)]
    pub stats: RowStats,
}

/// The result of [`Rejects::report`](super::Rejects::report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectsReport {
    /// Records aggregated (after filters).
    pub records: u64,
    /// ACCEPT records.
    pub accepts: u64,
    /// REJECT records.
    pub rejects: u64,
    /// NODATA records.
    pub nodata: u64,
    /// SKIPDATA records.
    pub skipdata: u64,
    /// Earliest `start` over all records.
    #[serde(serialize_with = "crate::display::ser_time")]
    pub first_start: Option<u64>,
    /// Latest `end` over all records.
    #[serde(serialize_with = "crate::display::ser_time")]
    pub last_end: Option<u64>,
    /// IPv4 prefix length of the source networks.
    pub prefix4: u8,
    /// IPv6 prefix length of the source networks.
    pub prefix6: u8,
    /// IPv4 prefix length of the destinations (32: addresses).
    pub dst_prefix4: u8,
    /// IPv6 prefix length of the destinations (128: addresses).
    pub dst_prefix6: u8,
    /// Whether the REJECT records carry `flow-direction`: rows then count
    /// ingress and egress records.
    pub directions: bool,
    /// Set when the memory budget made the result approximate.
    pub approximate: Option<Approximation>,
    /// Whether a row's packets or bytes reached 2^64 − 1: sums stop there
    /// ([`SATURATED`](crate::render::SATURATED)).
    pub saturated: bool,
    /// Top interfaces.
    pub interfaces: Vec<EniRow>,
    /// Top destination ports.
    pub ports: Vec<PortRow>,
    /// Top source networks.
    pub sources: Vec<NetRow>,
    /// Top destinations.
    pub destinations: Vec<DstRow>,
}
