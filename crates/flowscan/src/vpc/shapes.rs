//! The AWS CLI's JSON shapes, as serde reads them: only the fields
//! flowscan uses; everything else is ignored, and every list may be missing.

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SgShape {
    pub(super) group_id: String,
    pub(super) group_name: Option<String>,
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
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Range6Shape {
    pub(super) cidr_ipv6: String,
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PlIdShape {
    pub(super) prefix_list_id: String,
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PairShape {
    pub(super) group_id: Option<String>,
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SgrShape {
    pub(super) security_group_rule_id: String,
    pub(super) group_id: String,
    #[serde(default)]
    pub(super) is_egress: bool,
    pub(super) ip_protocol: Value,
    pub(super) from_port: Option<i64>,
    pub(super) to_port: Option<i64>,
    pub(super) cidr_ipv4: Option<String>,
    pub(super) cidr_ipv6: Option<String>,
    pub(super) prefix_list_id: Option<String>,
    pub(super) referenced_group_info: Option<PairShape>,
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EniShape {
    pub(super) network_interface_id: String,
    pub(super) subnet_id: Option<String>,
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
    pub(super) interface_type: Option<String>,
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
    pub(super) instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AclShape {
    pub(super) network_acl_id: String,
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
    pub(super) subnet_id: String,
    pub(super) vpc_id: Option<String>,
    pub(super) cidr_block: Option<String>,
    pub(super) available_ip_address_count: Option<u64>,
    #[serde(default)]
    pub(super) ipv6_cidr_block_association_set: Vec<Ipv6AssocShape>,
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
    pub(super) prefix_list_id: String,
    pub(super) cidrs: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PlEntryShape {
    pub(super) cidr: String,
}
