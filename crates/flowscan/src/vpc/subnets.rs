//! Addresses per subnet: how many AWS says are used, how many were active in
//! the logs, and which allocated ones never were (the reclaimable ones).

use std::net::IpAddr;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashSet;
use serde::Serialize;

use super::config::VpcConfig;
use super::{Period, Span};
use crate::aggregate::Aggregate;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet};
use crate::sink::{Position, Sink, SinkError};

/// Addresses AWS reserves in every subnet (the first four and the last).
pub const RESERVED: u64 = 5;

/// One subnet's addresses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubnetUse {
    /// `subnet-…`.
    pub subnet_id: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Its availability zone.
    pub zone: Option<String>,
    /// Its IPv4 network.
    pub cidr: Option<String>,
    /// Addresses instances can have: the network's size less the 5 AWS reserves.
    pub usable: u64,
    /// Free addresses when the configuration was saved (`AvailableIpAddressCount`).
    pub available: Option<u64>,
    /// Addresses in use then: usable less available.
    pub used: Option<u64>,
    /// `used` as a share of `usable`, in percent (one decimal).
    pub used_percent: Option<f64>,
    /// Distinct IPv4 addresses of the subnet seen in ACCEPT records.
    pub active_addresses: u64,
    /// Private IPv4 addresses of the saved interfaces in the subnet.
    pub allocated: u64,
    /// Of those, the ones never seen active: candidates to reclaim.
    pub reclaimable: u64,
    /// `used_percent` is at or above the warning threshold.
    pub flagged: bool,
}

/// The result of [`Subnets::report`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubnetsReport {
    /// The time the records cover.
    pub period: Option<Period>,
    /// The threshold, in percent.
    pub warn_at: f64,
    /// Subnets at or above it.
    pub flagged: u64,
    /// Every saved subnet, fullest first.
    pub subnets: Vec<SubnetUse>,
}

/// The `subnets` aggregation.
pub struct Subnets {
    cfg: Arc<VpcConfig>,
    active: Vec<HashSet<u32, RandomState>>,
    span: Span,
}

impl Subnets {
    /// An empty aggregation over a configuration.
    pub fn new(cfg: Arc<VpcConfig>) -> Subnets {
        Subnets {
            active: vec![HashSet::default(); cfg.subnets.len()],
            cfg,
            span: Span::default(),
        }
    }

    /// Every subnet, fullest first; `warn_at` is the threshold in percent.
    pub fn report(&self, warn_at: f64) -> SubnetsReport {
        let cfg = &*self.cfg;
        let mut rows: Vec<SubnetUse> = cfg
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let usable = s.cidr.map_or(0, |c| {
                    (1u64 << (32 - u32::from(c.prefix().min(32)))).saturating_sub(RESERVED)
                });
                let used = s.available.map(|a| usable.saturating_sub(a));
                let used_percent = used
                    .filter(|_| usable > 0)
                    .map(|u| (u as f64 * 1000.0 / usable as f64).round() / 10.0);
                let active = &self.active[i];
                let mine: Vec<u32> = cfg
                    .interfaces
                    .iter()
                    .filter(|f| f.subnet_id.as_deref() == Some(s.id.as_str()))
                    .flat_map(|f| f.addresses.iter())
                    .filter_map(|a| match a {
                        IpAddr::V4(v) => Some(u32::from(*v)),
                        IpAddr::V6(_) => None,
                    })
                    .collect();
                SubnetUse {
                    subnet_id: s.id.clone(),
                    vpc_id: s.vpc_id.clone(),
                    zone: s.zone.clone(),
                    cidr: s.cidr.map(|c| c.to_string()),
                    usable,
                    available: s.available,
                    used,
                    used_percent,
                    active_addresses: active.len() as u64,
                    allocated: mine.len() as u64,
                    reclaimable: mine.iter().filter(|a| !active.contains(*a)).count() as u64,
                    flagged: used_percent.is_some_and(|p| p >= warn_at),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.used_percent
                .unwrap_or(-1.0)
                .total_cmp(&a.used_percent.unwrap_or(-1.0))
                .then_with(|| a.subnet_id.cmp(&b.subnet_id))
        });
        SubnetsReport {
            period: self.span.period(),
            warn_at,
            flagged: rows.iter().filter(|r| r.flagged).count() as u64,
            subnets: rows,
        }
    }
}

impl Sink for Subnets {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[Field::Action, Field::SrcAddr, Field::DstAddr])
    }

    fn reads(&self) -> FieldSet {
        FieldSet::of(&[
            Field::Action,
            Field::SrcAddr,
            Field::DstAddr,
            Field::InterfaceId,
            Field::Start,
            Field::End,
        ])
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let (start, end) = (r.int(Field::Start)?, r.int(Field::End)?);
        let accept = r.text(Field::Action) == Some(b"ACCEPT");
        let (src, dst) = if accept {
            (r.addr(Field::SrcAddr)?, r.addr(Field::DstAddr)?)
        } else {
            (None, None)
        };
        self.span.add(start, end);
        let cfg = &*self.cfg;
        // Subnets of several saved VPCs may overlap: there, an address is
        // the one of the interface's VPC.
        let vpc = || {
            r.text(Field::InterfaceId)
                .and_then(|id| cfg.interface(std::str::from_utf8(id).ok()?))
                .and_then(|i| cfg.interfaces[i as usize].vpc_id.as_deref())
        };
        for a in [src, dst] {
            if let Some(IpAddr::V4(v4)) = a {
                if let Some(s) = cfg.subnet_in(IpAddr::V4(v4), vpc) {
                    self.active[s as usize].insert(u32::from(v4));
                }
            }
        }
        Ok(())
    }
}

impl Aggregate for Subnets {
    fn merge(&mut self, o: Subnets) {
        for (a, b) in self.active.iter_mut().zip(o.active) {
            a.extend(b);
        }
        self.span.merge(o.span);
    }
}
