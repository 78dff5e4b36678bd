//! A small query language for `--where`: comparisons on flow log fields,
//! combined with `and`, `or`, `not` and parentheses.
//!
//! ```text
//! expr       := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := field op value
//!             | field ["not"] "in" "(" value ("," value)* ")"
//!             | field ["not"] "in" cidr
//! op         := "=" | "!=" | "<" | "<=" | ">" | ">="
//! value      := number | address | cidr | time | word | 'quoted' | "quoted"
//! ```
//!
//! Field names are written exactly as in a flow log header (`dstport`,
//! `interface-id`; `interface_id` also works). Values take the field's type:
//! numbers for ports, counters and times (`start >= 2026-11-24T10:00Z` takes an
//! RFC 3339 time or Unix seconds), addresses and networks for address fields
//! (`srcaddr in 203.0.113.0/24`, `dstaddr = 10.0.0.5`), text otherwise
//! (`action = REJECT`). A record whose value is missing (`-`) matches no
//! comparison, as SQL's NULL does; `not` then makes it match.
//!
//! Values of enumerated fields (`action`, `log-status`, `flow-direction`,
//! `type`, `sublocation-type`) compare without regard to case
//! (`action = reject`); a value the field never takes is an error that lists
//! the ones it does. Nesting (parentheses, `not`) is limited to
//! [`MAX_DEPTH`] levels.
//!
//! Queries are parsed with nom into an expression tree ([`Query`]); a mistake
//! is reported with the column where it is.

use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{cut, map, opt, recognize, value};
use nom::multi::separated_list1;
use nom::sequence::{delimited, pair, preceded};
use nom::{IResult, Parser};

use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::{Field, FieldSet, Kind, Schema};

/// Comparison operators.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A constant, typed by the field it is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Const {
    /// For integer fields (and times, in Unix seconds).
    Int(u64),
    /// For address fields: one address.
    Addr(IpAddr),
    /// For address fields: a network.
    Net(IpNetwork),
    /// For text fields.
    Text(Vec<u8>),
}

/// A parsed and typed query.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Query {
    /// Every one holds.
    And(Vec<Query>),
    /// At least one holds.
    Or(Vec<Query>),
    /// The inner query does not hold.
    Not(Box<Query>),
    /// `field op value`.
    Cmp(Field, Op, Const),
    /// `field in (values)`: equal to one of them, or (addresses) inside one of
    /// the networks.
    In(Field, InSet),
    /// `field not in (values)` (and `!=` a network): a value, in none of
    /// them. A comparison, so a missing value (`-`) matches it no more than
    /// `!=` (only `not` makes a missing value match).
    NotIn(Field, InSet),
}

/// The values of an `in` list, kept sorted so that a long list (`dstport in
/// (30000, …, 50000)`) costs a binary search per record, not a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InSet {
    ints: Vec<u64>,
    addrs: Vec<IpAddr>,
    nets: Vec<IpNetwork>,
    texts: Vec<Vec<u8>>,
}

impl InSet {
    /// The set of `values`.
    pub fn new(values: Vec<Const>) -> InSet {
        let mut s = InSet {
            ints: Vec::new(),
            addrs: Vec::new(),
            nets: Vec::new(),
            texts: Vec::new(),
        };
        for v in values {
            match v {
                Const::Int(i) => s.ints.push(i),
                Const::Addr(a) => s.addrs.push(a),
                Const::Net(n) => s.nets.push(n),
                Const::Text(t) => s.texts.push(t),
            }
        }
        s.ints.sort_unstable();
        s.ints.dedup();
        s.addrs.sort_unstable();
        s.addrs.dedup();
        s.texts.sort_unstable();
        s.texts.dedup();
        s
    }

    fn has_int(&self, x: u64) -> bool {
        self.ints.binary_search(&x).is_ok()
    }

    /// Whether the record's value of `f` is in the set; `None` when it has
    /// none.
    fn holds<R: FlowRecord>(&self, r: &R, f: Field) -> Result<Option<bool>, ValueError> {
        Ok(match f.kind() {
            Kind::Int32 | Kind::Int64 => r.int(f)?.map(|x| self.has_int(x)),
            Kind::Addr => r.addr(f)?.map(|x| self.has_addr(x)),
            Kind::Text => r.text(f).map(|x| self.has_text(x)),
        })
    }

    fn has_addr(&self, x: IpAddr) -> bool {
        self.addrs.binary_search(&x).is_ok() || self.nets.iter().any(|n| n.contains(x))
    }

    fn has_text(&self, x: &[u8]) -> bool {
        self.texts.binary_search_by(|t| t.as_slice().cmp(x)).is_ok()
    }
}

/// How deep parentheses and `not` may nest: enough for any query written by
/// hand, and a bound on the recursion that parses and evaluates it.
pub const MAX_DEPTH: usize = 64;

/// A query that did not parse, with the column (1-based) of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based column in the query text.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for QueryError {}

/// The untyped syntax tree, before fields and values are checked.
#[derive(Clone, Debug)]
enum Ast<'a> {
    And(Vec<Ast<'a>>),
    Or(Vec<Ast<'a>>),
    Not(Box<Ast<'a>>),
    Cmp(&'a str, Op, &'a str),
    In(&'a str, bool, Vec<&'a str>),
}

fn ws<'a, O>(
    p: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
) -> impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>> {
    delimited(multispace0, p, multispace0)
}

/// A keyword, not followed by a name character (`and` but not `android`).
fn keyword<'a>(
    k: &'static str,
) -> impl Parser<&'a str, Output = &'a str, Error = nom::error::Error<&'a str>> {
    move |input: &'a str| {
        let (rest, w) = take_while1(|c: char| c.is_ascii_alphabetic())(input)?;
        if w.eq_ignore_ascii_case(k) {
            Ok((rest, w))
        } else {
            Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Tag,
            )))
        }
    }
}

fn name(input: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
    ))
    .parse(input)
}

fn op(input: &str) -> IResult<&str, Op> {
    alt((
        value(Op::Ne, tag("!=")),
        value(Op::Ne, tag("<>")),
        value(Op::Le, tag("<=")),
        value(Op::Ge, tag(">=")),
        value(Op::Eq, tag("==")),
        value(Op::Eq, tag("=")),
        value(Op::Lt, tag("<")),
        value(Op::Gt, tag(">")),
    ))
    .parse(input)
}

/// A value: quoted text, or a bare run of characters that cannot end an
/// expression (letters, digits, `.`, `:`, `/`, `-`, `+`, `_`).
fn literal(input: &str) -> IResult<&str, &str> {
    alt((
        delimited(char('\''), take_while(|c| c != '\''), char('\'')),
        delimited(char('"'), take_while(|c| c != '"'), char('"')),
        take_while1(|c: char| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '-' | '+' | '_')
        }),
    ))
    .parse(input)
}

fn comparison(input: &str) -> IResult<&str, Ast<'_>> {
    let (input, field) = ws(name).parse(input)?;
    let in_list = map(
        (
            opt(ws(keyword("not"))),
            ws(keyword("in")),
            cut(alt((
                preceded(
                    ws(char('(')),
                    cut(nom::sequence::terminated(
                        separated_list1(ws(char(',')), ws(literal)),
                        ws(char(')')),
                    )),
                ),
                map(ws(literal), |v| vec![v]),
            ))),
        ),
        move |(not, _, vals)| Ast::In(field, not.is_some(), vals),
    );
    let cmp = map((ws(op), cut(ws(literal))), move |(o, v)| {
        Ast::Cmp(field, o, v)
    });
    alt((in_list, cmp)).parse(input)
}

fn unary(input: &str) -> IResult<&str, Ast<'_>> {
    alt((
        map(preceded(ws(keyword("not")), unary), |a| {
            Ast::Not(Box::new(a))
        }),
        preceded(
            ws(char('(')),
            cut(nom::sequence::terminated(or_expr, ws(char(')')))),
        ),
        comparison,
    ))
    .parse(input)
}

/// `item (word item)*`, kept flat: a long chain of `and`s is one node, not a
/// tree as deep as the chain.
fn chain<'a>(
    input: &'a str,
    word: &'static str,
    item: fn(&'a str) -> IResult<&'a str, Ast<'a>>,
    node: fn(Vec<Ast<'a>>) -> Ast<'a>,
) -> IResult<&'a str, Ast<'a>> {
    let (mut input, first) = item(input)?;
    let mut all = vec![first];
    loop {
        match preceded(ws(keyword(word)), cut(item)).parse(input) {
            Ok((rest, rhs)) => {
                all.push(rhs);
                input = rest;
            }
            Err(nom::Err::Error(_)) => break,
            Err(e) => return Err(e),
        }
    }
    let one = all.len() == 1;
    Ok((input, if one { all.remove(0) } else { node(all) }))
}

fn and_expr(input: &str) -> IResult<&str, Ast<'_>> {
    chain(input, "and", unary, Ast::And)
}

fn or_expr(input: &str) -> IResult<&str, Ast<'_>> {
    chain(input, "or", and_expr, Ast::Or)
}

/// The first place where parentheses and `not`s nest deeper than
/// [`MAX_DEPTH`], as a byte offset (quoted values do not count).
fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut depth, mut nots, mut quote) = (0usize, 0usize, None);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ if c.is_ascii_alphabetic() => {
                    let end = b[i..]
                        .iter()
                        .position(|x| !x.is_ascii_alphanumeric() && *x != b'-' && *x != b'_')
                        .map_or(b.len(), |n| i + n);
                    if b[i..end].eq_ignore_ascii_case(b"not") {
                        nots += 1;
                    } else if !b[i..end].eq_ignore_ascii_case(b"in") {
                        nots = 0;
                    }
                    if depth + nots > MAX_DEPTH {
                        return Some(i);
                    }
                    i = end;
                    continue;
                }
                _ => {}
            },
        }
        if depth + nots > MAX_DEPTH {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl Query {
    /// Parses and types a query.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        // Columns are found as byte offsets, and given in characters, as a
        // person (or an editor) counts them.
        Query::parse_bytes(text).map_err(|e| QueryError {
            column: text
                .get(..e.column - 1)
                .map_or(e.column, |before| before.chars().count() + 1),
            ..e
        })
    }

    fn parse_bytes(text: &str) -> Result<Query, QueryError> {
        let at = |rest: &str| text.len() - rest.len() + 1;
        if let Some(i) = too_deep(text) {
            return Err(QueryError {
                column: i + 1,
                message: format!("parentheses and `not` nest more than {MAX_DEPTH} deep here"),
            });
        }
        match or_expr(text) {
            Ok((rest, ast)) if rest.trim().is_empty() => Query::typed(text, ast),
            Ok((rest, _)) => Err(QueryError {
                column: at(rest.trim_start()),
                message: format!("unexpected `{}`", first_word(rest.trim_start())),
            }),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                let rest = e.input.trim_start();
                Err(QueryError {
                    column: at(rest),
                    message: if rest.is_empty() {
                        "the query ends too early: expected a field, a value or `)`".into()
                    } else {
                        format!(
                            "expected a comparison such as `dstport = 22`, found `{}`",
                            first_word(rest)
                        )
                    },
                })
            }
            Err(nom::Err::Incomplete(_)) => Err(QueryError {
                column: text.len() + 1,
                message: "the query ends too early".into(),
            }),
        }
    }

    fn typed(text: &str, ast: Ast<'_>) -> Result<Query, QueryError> {
        let col = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize + 1;
        let all = |v: Vec<Ast<'_>>| -> Result<Vec<Query>, QueryError> {
            v.into_iter().map(|a| Query::typed(text, a)).collect()
        };
        Ok(match ast {
            Ast::And(v) => Query::And(all(v)?),
            Ast::Or(v) => Query::Or(all(v)?),
            Ast::Not(a) => Query::Not(Box::new(Query::typed(text, *a)?)),
            Ast::Cmp(f, op, v) => {
                let field = field_of(f).ok_or_else(|| QueryError {
                    column: col(f),
                    message: format!("`{f}` is not a flow log field"),
                })?;
                let c = constant(field, v).map_err(|m| QueryError {
                    column: col(v),
                    message: m,
                })?;
                if matches!(c, Const::Net(_)) && !matches!(op, Op::Eq | Op::Ne) {
                    return Err(QueryError {
                        column: col(v),
                        message: "a network can only be compared with `=`, `!=` or `in`".into(),
                    });
                }
                let c = match (c, op) {
                    // `srcaddr = 10.0.0.0/8` reads as containment.
                    (Const::Net(n), Op::Eq) => {
                        return Ok(Query::In(field, InSet::new(vec![Const::Net(n)])))
                    }
                    (Const::Net(n), _) => {
                        return Ok(Query::NotIn(field, InSet::new(vec![Const::Net(n)])))
                    }
                    (c, _) => c,
                };
                Query::Cmp(field, op, c)
            }
            Ast::In(f, not, vals) => {
                let field = field_of(f).ok_or_else(|| QueryError {
                    column: col(f),
                    message: format!("`{f}` is not a flow log field"),
                })?;
                let consts = vals
                    .iter()
                    .map(|v| {
                        constant(field, v).map_err(|m| QueryError {
                            column: col(v),
                            message: m,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let set = InSet::new(consts);
                if not {
                    Query::NotIn(field, set)
                } else {
                    Query::In(field, set)
                }
            }
        })
    }

    /// Fields the query reads.
    pub fn fields(&self) -> FieldSet {
        match self {
            Query::And(v) | Query::Or(v) => {
                v.iter().fold(FieldSet::EMPTY, |s, q| s.union(q.fields()))
            }
            Query::Not(a) => a.fields(),
            Query::Cmp(f, _, _) | Query::In(f, _) | Query::NotIn(f, _) => FieldSet::of(&[*f]),
        }
    }

    /// Whether a record matches. A value that does not decode is an error (the
    /// line is malformed).
    pub fn matches<R: FlowRecord>(&self, r: &R) -> Result<bool, ValueError> {
        Ok(match self {
            Query::And(v) => {
                for q in v {
                    if !q.matches(r)? {
                        return Ok(false);
                    }
                }
                true
            }
            Query::Or(v) => {
                for q in v {
                    if q.matches(r)? {
                        return Ok(true);
                    }
                }
                false
            }
            Query::Not(a) => !a.matches(r)?,
            Query::Cmp(f, op, c) => match c {
                Const::Int(v) => r.int(*f)?.is_some_and(|x| order(*op, x.cmp(v))),
                Const::Addr(a) => r.addr(*f)?.is_some_and(|x| order(*op, x.cmp(a))),
                Const::Text(t) => r.text(*f).is_some_and(|x| order(*op, x.cmp(t.as_slice()))),
                Const::Net(_) => unreachable!("networks are typed as `in`"),
            },
            Query::In(f, set) => set.holds(r, *f)? == Some(true),
            Query::NotIn(f, set) => set.holds(r, *f)? == Some(false),
        })
    }
}

fn order(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
    }
}

fn first_word(s: &str) -> &str {
    let end = s.find(char::is_whitespace).unwrap_or(s.len()).min(20);
    &s[..s
        .char_indices()
        .nth(end)
        .map_or(s.len(), |(i, _)| i)
        .min(s.len())]
}

fn field_of(name: &str) -> Option<Field> {
    Schema::known_name(name.to_ascii_lowercase().as_bytes())
}

fn constant(field: Field, v: &str) -> Result<Const, String> {
    match field.kind() {
        Kind::Int32 | Kind::Int64 => {
            if let Ok(n) = v.parse::<u64>() {
                return crate::parse::check_int(field, n)
                    .map(Const::Int)
                    .map_err(|e| e.to_string());
            }
            if matches!(field, Field::Start | Field::End) {
                return crate::parse::parse_time(v, std::time::SystemTime::now())
                    .map(Const::Int)
                    .map_err(|e| format!("{field}: {e}"));
            }
            Err(format!("{field} takes a number, not `{v}`"))
        }
        Kind::Addr => {
            if v.contains('/') {
                v.parse::<IpNetwork>()
                    .map(|n| {
                        // Normalise to the network address so that printing is
                        // canonical; containment does not depend on it.
                        let n = crate::parse::canonical_net(n);
                        Const::Net(IpNetwork::new(n.network(), n.prefix()).unwrap_or(n))
                    })
                    .map_err(|_| format!("`{v}` is not a network such as 203.0.113.0/24"))
            } else {
                v.parse::<IpAddr>()
                    .map(|a| Const::Addr(crate::parse::canonical_addr(a)))
                    .map_err(|_| format!("`{v}` is not an IP address"))
            }
        }
        Kind::Text => match enumerated(field) {
            Some(values) => values
                .iter()
                .find(|x| x.eq_ignore_ascii_case(v))
                .map(|x| Const::Text(x.as_bytes().to_vec()))
                .ok_or_else(|| {
                    format!(
                        "{field} is one of {} (or `-` when missing), not `{v}`",
                        values.join(", ")
                    )
                }),
            None => Ok(Const::Text(v.as_bytes().to_vec())),
        },
    }
}

/// The values a field takes, when AWS documents a closed set.
fn enumerated(field: Field) -> Option<&'static [&'static str]> {
    Some(match field {
        Field::Action => &["ACCEPT", "REJECT"],
        Field::LogStatus => &["OK", "NODATA", "SKIPDATA"],
        Field::FlowDirection => &["ingress", "egress"],
        Field::Type => &["IPv4", "IPv6", "EFA"],
        Field::SublocationType => &["wavelength", "outpost", "localzone"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Tokens;
    use crate::record::Record;

    const LINE: &str = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 51234 22 6 20 4249 1795514400 1795514460 REJECT OK";

    fn check(q: &str) -> bool {
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        t.split(LINE.as_bytes());
        Query::parse(q)
            .unwrap()
            .matches(&Record::new(LINE.as_bytes(), &t, &schema).unwrap())
            .unwrap()
    }

    /// A missing value matches no comparison, `not in` and `!=` a network
    /// included (they were `not (… in …)`, so `-` matched them); only `not`
    /// makes it match.
    #[test]
    fn a_missing_value_matches_no_comparison_however_negated() {
        let line = "2 1 eni-1 - - - - - - - 1795514400 1795514420 - NODATA";
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        t.split(line.as_bytes());
        let r = Record::new(line.as_bytes(), &t, &schema).unwrap();
        let m = |q: &str| Query::parse(q).unwrap().matches(&r).unwrap();
        for q in [
            "dstport != 22",
            "dstport not in (22)",
            "srcaddr != 192.0.2.1",
            "srcaddr != 192.0.2.0/24",
            "srcaddr not in (192.0.2.0/24, 10.0.0.1)",
            "action not in (ACCEPT)",
        ] {
            assert!(!m(q), "{q}");
            assert!(m(&format!("not ({q})")), "not ({q})");
        }
        assert!(m("not dstport in (22)"));
    }

    #[test]
    fn comparisons_lists_networks_and_logic() {
        assert!(check("action = REJECT"));
        assert!(check("action = 'REJECT' and dstport in (22, 3389)"));
        assert!(!check("action = ACCEPT or dstport = 23"));
        assert!(check("not (action = ACCEPT)"));
        assert!(check("srcaddr in 203.0.113.0/24"));
        assert!(check("srcaddr = 203.0.113.0/24"));
        assert!(!check("srcaddr not in 203.0.113.0/24"));
        assert!(check("dstaddr in (10.0.0.0/8, 172.16.0.0/12)"));
        assert!(check("dstaddr = 172.31.16.139"));
        assert!(check("bytes > 4000 and bytes <= 4249 and packets != 21"));
        assert!(check(
            "start >= 2026-11-24T10:00Z and start < 2026-11-24T11:00Z"
        ));
        assert!(check("interface_id = eni-1235b8ca123456789"));
        assert!(check("ACTION = REJECT AND (dstport = 80 OR dstport = 22)"));
        assert!(!check("vpc-id = vpc-1"), "a missing field matches nothing");
        assert!(check("not vpc-id = vpc-1"));
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = |q: &str| Query::parse(q).unwrap_err();
        assert_eq!(e("dstprt = 22").column, 1);
        assert!(e("dstprt = 22")
            .message
            .contains("`dstprt` is not a flow log field"));
        assert_eq!(e("dstport = twenty").column, 11);
        assert_eq!(e("dstport = 70000").column, 11);
        assert_eq!(e("action = REJECT and").column, 20);
        assert!(e("action = REJECT and").message.contains("ends too early"));
        assert_eq!(e("dstport in (22, ").column, 15);
        assert_eq!(e("dstport = ").column, 11);
        assert_eq!(e("action = REJECT )").column, 17);
        assert_eq!(e("srcaddr in 10.0.0.0/33").column, 12);
        assert_eq!(e("(action = REJECT").column, 17);
        assert_eq!(e("srcaddr > 10.0.0.0/8").column, 11);
        // Characters, not bytes: `é` is two bytes.
        assert_eq!(e("dstport = \"é\" or dstport = 2é2").column, 29);
        assert_eq!(e("interface-id = \"ü\" and dstprt = 22").column, 24);
        assert_eq!(e("interface-id = \"ü\" and").column, 23);
    }

    #[test]
    fn enumerated_values_ignore_case_and_unknown_ones_are_errors() {
        assert!(check("action = reject"));
        assert!(check("action in (accept, Reject)"));
        assert!(check("log-status = ok"));
        let e = Query::parse("action = BLOCK").unwrap_err();
        assert_eq!(e.column, 10);
        assert!(e.message.contains("ACCEPT, REJECT"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for q in [
            "(".repeat(10_000),
            "not ".repeat(20_000) + "action = REJECT",
        ] {
            let e = Query::parse(&q).unwrap_err();
            assert!(e.message.contains("nest more than 64"), "{}", e.message);
        }
        let ok = "(".repeat(30) + "action = REJECT" + &")".repeat(30);
        assert!(check(&ok));
        // A long flat chain is not deep.
        let chain = vec!["dstport != 1"; 50_000].join(" and ");
        assert!(check(&chain));
    }

    #[test]
    fn long_in_lists_are_sets() {
        let list: Vec<String> = (30_000..=50_000).map(|p| p.to_string()).collect();
        let q = Query::parse(&format!("dstport in ({})", list.join(", "))).unwrap();
        match &q {
            Query::In(_, set) => assert_eq!(set.ints.len(), 20_001),
            other => panic!("{other:?}"),
        }
        assert!(check("dstport in (3389, 22, 22)"));
        assert!(!check("dstport in (30000, 40000)"));
    }

    #[test]
    fn fields_read() {
        let q =
            Query::parse("action = REJECT and (srcaddr in 10.0.0.0/8 or not vpc-id = x)").unwrap();
        assert_eq!(
            q.fields(),
            FieldSet::of(&[Field::Action, Field::SrcAddr, Field::VpcId])
        );
    }
}
