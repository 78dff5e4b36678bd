//! The AWS CLI's JSON shapes, as serde reads them: only the fields
//! flowscan uses; everything else is ignored, and every list may be missing.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::display::escape_controls;

/// An AWS id (`sg-0123…`, `subnet-…`): letters, digits and `-`. Ids are
/// printed, and pasted into the `aws` commands `explain` suggests; a saved
/// file that held `sg-1;rm -rf ~` or an escape sequence is refused here.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok {
        return Err(serde::de::Error::custom(format!(
            "'{}' is not an AWS id (letters, digits and '-')",
            escape_controls(&s.chars().take(80).collect::<String>())
        )));
    }
    Ok(s)
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// Free text (names, descriptions) with control characters escaped: it is
/// printed in tables.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| escape_controls(&s).into_owned()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SgShape {
    #[serde(deserialize_with = "id")]
    pub(super) group_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) group_name: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) vpc_id: Option<String>,
    #[serde(default)]
    pub(super) ip_permissions: Vec<PermShape>,
    #[serde(default)]
    pub(super) ip_permissions_egress: Vec<PermShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PermShape {
    pub(super) ip_protocol: Value,
    pub(super) from_port: Option<i64>,
    pub(super) to_port: Option<i64>,
    #[serde(default)]
    pub(super) ip_ranges: Vec<RangeShape>,
    #[serde(default)]
    pub(super) ipv6_ranges: Vec<Range6Shape>,
    #[serde(default)]
    pub(super) prefix_list_ids: Vec<PlIdShape>,
    #[serde(default)]
    pub(super) user_id_group_pairs: Vec<PairShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RangeShape {
    pub(super) cidr_ip: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Range6Shape {
    pub(super) cidr_ipv6: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PlIdShape {
    #[serde(deserialize_with = "id")]
    pub(super) prefix_list_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PairShape {
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) group_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SgrShape {
    #[serde(deserialize_with = "id")]
    pub(super) security_group_rule_id: String,
    #[serde(deserialize_with = "id")]
    pub(super) group_id: String,
    #[serde(default)]
    pub(super) is_egress: bool,
    pub(super) ip_protocol: Value,
    pub(super) from_port: Option<i64>,
    pub(super) to_port: Option<i64>,
    pub(super) cidr_ipv4: Option<String>,
    pub(super) cidr_ipv6: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) prefix_list_id: Option<String>,
    pub(super) referenced_group_info: Option<PairShape>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EniShape {
    #[serde(deserialize_with = "id")]
    pub(super) network_interface_id: String,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) subnet_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) vpc_id: Option<String>,
    pub(super) private_ip_address: Option<String>,
    #[serde(default)]
    pub(super) private_ip_addresses: Vec<PrivateShape>,
    #[serde(default)]
    pub(super) ipv6_addresses: Vec<Ipv6Shape>,
    #[serde(default)]
    pub(super) groups: Vec<PairShape>,
    pub(super) attachment: Option<AttachmentShape>,
    pub(super) association: Option<AssociationShape>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) interface_type: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PrivateShape {
    pub(super) private_ip_address: Option<String>,
    pub(super) association: Option<AssociationShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AssociationShape {
    pub(super) public_ip: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Ipv6Shape {
    pub(super) ipv6_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttachmentShape {
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AclShape {
    #[serde(deserialize_with = "id")]
    pub(super) network_acl_id: String,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) vpc_id: Option<String>,
    #[serde(default)]
    pub(super) is_default: bool,
    #[serde(default)]
    pub(super) associations: Vec<AssocShape>,
    #[serde(default)]
    pub(super) entries: Vec<EntryShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AssocShape {
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) subnet_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EntryShape {
    pub(super) rule_number: i64,
    pub(super) protocol: Value,
    pub(super) rule_action: String,
    #[serde(default)]
    pub(super) egress: bool,
    pub(super) cidr_block: Option<String>,
    pub(super) ipv6_cidr_block: Option<String>,
    pub(super) port_range: Option<PortRangeShape>,
    pub(super) icmp_type_code: Option<IcmpShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PortRangeShape {
    pub(super) from: Option<i64>,
    pub(super) to: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IcmpShape {
    pub(super) r#type: Option<i64>,
    pub(super) code: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SubnetShape {
    #[serde(deserialize_with = "id")]
    pub(super) subnet_id: String,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) vpc_id: Option<String>,
    pub(super) cidr_block: Option<String>,
    pub(super) available_ip_address_count: Option<u64>,
    #[serde(default)]
    pub(super) ipv6_cidr_block_association_set: Vec<Ipv6AssocShape>,
    #[serde(default, deserialize_with = "opt_text")]
    pub(super) availability_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Ipv6AssocShape {
    pub(super) ipv6_cidr_block: Option<String>,
    pub(super) ipv6_cidr_block_state: Option<StateShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StateShape {
    pub(super) state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PlShape {
    #[serde(deserialize_with = "id")]
    pub(super) prefix_list_id: String,
    pub(super) cidrs: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PlEntryShape {
    pub(super) cidr: String,
}
