//! `nbt lookup`: a name query by broadcast (B-node: repeated 250 ms apart; answers collected
//! until [`UNIQUE_GRACE`] after the first one for a unique name, or for the whole timeout for a
//! group or with `--all`) or by unicast to one server or WINS server (stops at the first
//! answer).
//!
//! Identical answers are folded (nmbd answers each broadcast twice), and different addresses
//! for a unique name are shown as a conflict.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use anyhow::{anyhow, bail};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::{NameServicePacket, NbAddress, NmFlags, PacketKind, Rcode};
use nbtd::protocol::{NetbiosName, ScopedName};
use serde::Serialize;

use crate::common::{
    Found, Global, Ignore, Ignored, node_type_text, out, print_json, random_u16, rcode_meaning,
    show_duration,
};
use crate::exchange::{self, Endpoint, Flow, IfaceChoice, Plan};

/// Where the query goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Broadcast on the chosen interfaces.
    Broadcast(IfaceChoice),
    /// Unicast to one server.
    Server(Ipv4Addr),
    /// Unicast to a WINS server, with RD set so that it answers from its database.
    Wins(Ipv4Addr),
}

impl Target {
    /// Where a command that takes a host looks its name up: the WINS server when one is
    /// given, else by broadcast on the chosen interfaces.
    pub fn resolver(wins: Option<Ipv4Addr>, ifaces: impl Into<IfaceChoice>) -> Self {
        match wins {
            Some(ip) => Target::Wins(ip),
            None => Target::Broadcast(ifaces.into()),
        }
    }

    /// How the name is looked up, for messages.
    fn how(&self) -> String {
        match self {
            Target::Broadcast(_) => "by broadcast".to_owned(),
            Target::Server(ip) => format!("from {ip}"),
            Target::Wins(ip) => format!("from the WINS server {ip}"),
        }
    }
}

/// A lookup as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The name as typed.
    pub name: String,
    /// Where to ask.
    pub target: Target,
    /// How long to collect answers; the mode's default when `None`.
    pub timeout: Option<Duration>,
    /// Repetitions after the first query.
    pub retries: u32,
    /// Collect for the whole timeout, even after an answer for a unique name (`--all`).
    pub all: bool,
}

/// RFC 1002 §6 BCAST_REQ_RETRY_TIMEOUT.
pub const BCAST_RETRY_INTERVAL: Duration = Duration::from_millis(250);
/// How long a broadcast lookup collects answers by default.
pub const BCAST_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a broadcast lookup goes on collecting after the first positive answer for a unique
/// name: long enough for a second host that claims it too (a conflict) to answer, as the
/// answers to one broadcast arrive within milliseconds of each other on a LAN.
pub const UNIQUE_GRACE: Duration = Duration::from_millis(100);
/// How long a unicast lookup waits by default.
pub const UCAST_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads a name from the command line, with a message that says how to write one.
pub fn parse_name(s: &str) -> anyhow::Result<ScopedName> {
    let n: NetbiosName = s.parse().map_err(|e| {
        anyhow!("bad name {s:?}: {e} (write NAME, NAME#1d or NAME<1d>; \\xNN for other bytes)")
    })?;
    Ok(ScopedName::unscoped(n))
}

/// What one reply says about the name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryAnswer {
    /// A positive answer: TTL and address entries.
    Positive {
        /// TTL in seconds.
        ttl: u32,
        /// NB address entries.
        addresses: Vec<NbAddress>,
    },
    /// A negative answer with its RCODE.
    Negative(Rcode),
}

/// Reads a reply to our name query for `question` with transaction ID `trn_id`.
pub fn classify(bytes: &[u8], trn_id: u16, question: &ScopedName) -> Result<QueryAnswer, Ignore> {
    let p = NameServicePacket::parse(bytes).map_err(|e| Ignore::Malformed(e.to_string()))?;
    if p.trn_id != trn_id {
        return Err(Ignore::WrongId(p.trn_id));
    }
    let same_name = |n: &ScopedName| {
        n.name.eq_ignore_case(&question.name) && n.scope.eq_ignore_case(&question.scope)
    };
    let record_name = p.answers.first().and_then(|a| a.name.netbios().cloned());
    if let Some(n) = &record_name {
        if !same_name(n) {
            return Err(Ignore::Unexpected(format!(
                "answer for {n}, not for {question}"
            )));
        }
    }
    match p.kind() {
        PacketKind::PositiveNameQueryResponse => {
            let rr = p
                .answers
                .first()
                .ok_or_else(|| Ignore::Unexpected("positive answer without a record".into()))?;
            match rr.nb_addresses() {
                Some(a) if !a.is_empty() => Ok(QueryAnswer::Positive {
                    ttl: rr.ttl,
                    addresses: a.to_vec(),
                }),
                _ => Err(Ignore::Unexpected(
                    "positive answer without an address".into(),
                )),
            }
        }
        PacketKind::NegativeNameQueryResponse => Ok(QueryAnswer::Negative(p.rcode)),
        other => Err(Ignore::Unexpected(format!(
            "{other:?}, not an answer to a name query"
        ))),
    }
}

/// One reply used: where it came in, who sent it, what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Index of the endpoint (interface) it came in on.
    pub via: usize,
    /// Its source.
    pub from: SocketAddrV4,
    /// What it says.
    pub result: QueryAnswer,
}

/// An answer and how many identical copies arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The first copy.
    pub answer: Answer,
    /// How many arrived, at least 1.
    pub copies: usize,
}

/// What makes two answers the same: everything but the TTL, which counts down.
fn same_answer(a: &Answer, b: &Answer) -> bool {
    a.via == b.via
        && a.from == b.from
        && match (&a.result, &b.result) {
            (
                QueryAnswer::Positive { addresses: x, .. },
                QueryAnswer::Positive { addresses: y, .. },
            ) => x == y,
            (QueryAnswer::Negative(x), QueryAnswer::Negative(y)) => x == y,
            _ => false,
        }
}

/// Folds identical answers, keeping the order in which they first arrived.
pub fn fold(answers: &[Answer]) -> Vec<Folded> {
    let mut out: Vec<Folded> = Vec::new();
    for a in answers {
        match out.iter_mut().find(|f| same_answer(&f.answer, a)) {
            Some(f) => f.copies += 1,
            None => out.push(Folded {
                answer: a.clone(),
                copies: 1,
            }),
        }
    }
    out
}

/// Different addresses claimed for a unique name on one interface (or from one server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Endpoint index.
    pub via: usize,
    /// Every address claimed, in order of arrival.
    pub addresses: Vec<Ipv4Addr>,
    /// Who claimed them.
    pub responders: Vec<SocketAddrV4>,
}

/// Finds conflicts: on one endpoint, positive answers whose unique (non-group) addresses
/// differ. A host that lists several addresses in one answer is multihomed, not in conflict.
pub fn conflicts(folded: &[Folded]) -> Vec<Conflict> {
    let mut vias: Vec<usize> = folded.iter().map(|f| f.answer.via).collect();
    vias.sort_unstable();
    vias.dedup();
    let mut out = Vec::new();
    for via in vias {
        let mut sets: Vec<Vec<Ipv4Addr>> = Vec::new();
        let mut responders = Vec::new();
        for f in folded.iter().filter(|f| f.answer.via == via) {
            let QueryAnswer::Positive { addresses, .. } = &f.answer.result else {
                continue;
            };
            let set: Vec<Ipv4Addr> = addresses
                .iter()
                .filter(|a| !a.flags.is_group())
                .map(|a| a.addr)
                .collect();
            if set.is_empty() {
                continue;
            }
            if !sets.contains(&set) {
                sets.push(set);
            }
            if !responders.contains(&f.answer.from) {
                responders.push(f.answer.from);
            }
        }
        if sets.len() > 1 {
            let mut addresses: Vec<Ipv4Addr> = Vec::new();
            for a in sets.into_iter().flatten() {
                if !addresses.contains(&a) {
                    addresses.push(a);
                }
            }
            out.push(Conflict {
                via,
                addresses,
                responders,
            });
        }
    }
    out
}

/// One address line of the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultLine {
    /// The address.
    pub address: Ipv4Addr,
    /// `NAME<xx>`.
    pub name: String,
    /// Group name.
    pub group: bool,
    /// Owner node type.
    pub node_type: &'static str,
    /// TTL in seconds of the first answer that carried it.
    pub ttl: u32,
    /// The interface, or `unicast`.
    pub via: String,
    /// Who answered (the first one that did).
    pub from: SocketAddrV4,
    /// Identical answers that carried it.
    pub answers: usize,
    /// Part of a conflict.
    pub conflict: bool,
}

/// A negative answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegativeLine {
    /// Who answered.
    pub from: SocketAddrV4,
    /// The interface, or `unicast`.
    pub via: String,
    /// RCODE value.
    pub rcode: u8,
    /// RCODE name, e.g. NAM_ERR.
    pub rcode_name: &'static str,
    /// Identical answers.
    pub answers: usize,
}

/// A conflict, for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictLine {
    /// `NAME<xx>`.
    pub name: String,
    /// The interface, or `unicast`.
    pub via: String,
    /// The addresses claimed.
    pub addresses: Vec<Ipv4Addr>,
    /// Who claimed them.
    pub responders: Vec<SocketAddrV4>,
}

/// Where a query went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The interface, or `unicast`.
    pub via: String,
    /// The destination.
    pub to: SocketAddrV4,
}

/// The whole result of a lookup, ready to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `NAME<xx>` asked for.
    pub query: String,
    /// `broadcast`, `unicast` or `wins`.
    pub mode: &'static str,
    /// Where the query went.
    pub sent: Vec<Sent>,
    /// How long answers were collected, in milliseconds.
    pub timeout_ms: u128,
    /// Whether a positive answer came.
    pub found: bool,
    /// Every address answered, identical answers folded.
    pub results: Vec<ResultLine>,
    /// Negative answers.
    pub negative: Vec<NegativeLine>,
    /// Conflicts on unique names.
    pub conflicts: Vec<ConflictLine>,
    /// Replies not used.
    pub ignored: Ignored,
}

/// Builds the report from the collected answers.
pub fn report(
    question: &ScopedName,
    mode: &'static str,
    sent: Vec<Sent>,
    labels: &[String],
    timeout: Duration,
    answers: &[Answer],
    ignored: Ignored,
) -> Report {
    let folded = fold(answers);
    let found_conflicts = conflicts(&folded);
    let label = |via: usize| labels.get(via).cloned().unwrap_or_default();
    let in_conflict = |via: usize, a: Ipv4Addr| {
        found_conflicts
            .iter()
            .any(|c| c.via == via && c.addresses.contains(&a))
    };
    let mut results: Vec<ResultLine> = Vec::new();
    let mut negative = Vec::new();
    for f in &folded {
        let a = &f.answer;
        match &a.result {
            QueryAnswer::Positive { ttl, addresses } => {
                for nb in addresses {
                    let group = nb.flags.is_group();
                    if let Some(r) = results
                        .iter_mut()
                        .find(|r| r.address == nb.addr && r.group == group && r.via == label(a.via))
                    {
                        r.answers += f.copies;
                        continue;
                    }
                    results.push(ResultLine {
                        address: nb.addr,
                        name: question.to_string(),
                        group,
                        node_type: node_type_text(nb.flags.node_type()),
                        ttl: *ttl,
                        via: label(a.via),
                        from: a.from,
                        answers: f.copies,
                        conflict: !group && in_conflict(a.via, nb.addr),
                    });
                }
            }
            QueryAnswer::Negative(rcode) => negative.push(NegativeLine {
                from: a.from,
                via: label(a.via),
                rcode: rcode.value(),
                rcode_name: rcode.name(),
                answers: f.copies,
            }),
        }
    }
    Report {
        query: question.to_string(),
        mode,
        sent,
        timeout_ms: timeout.as_millis(),
        found: !results.is_empty(),
        conflicts: found_conflicts
            .iter()
            .map(|c| ConflictLine {
                name: question.to_string(),
                via: label(c.via),
                addresses: c.addresses.clone(),
                responders: c.responders.clone(),
            })
            .collect(),
        results,
        negative,
        ignored,
    }
}

/// The text form: lines for stdout (`198.18.0.1 ALPHA<00>`, like nmblookup, with GROUP and
/// CONFLICT marks) and notes for stderr (negative answers, conflicts, no answer).
pub fn text(r: &Report, verbose: bool) -> (Vec<String>, Vec<String>) {
    let many_vias = r.sent.len() > 1;
    let mut out = Vec::new();
    let mut err = Vec::new();
    for l in &r.results {
        let mut s = format!("{} {}", l.address, l.name);
        if l.group {
            s.push_str(" GROUP");
        }
        if l.conflict {
            s.push_str(" CONFLICT");
        }
        if many_vias {
            s.push_str(&format!(" via {}", l.via));
        }
        out.push(s);
        if verbose {
            err.push(format!(
                "nbt: {} answered for {} (ttl {} s, {} identical {})",
                l.from,
                l.address,
                l.ttl,
                l.answers,
                if l.answers == 1 { "answer" } else { "answers" }
            ));
        }
    }
    for c in &r.conflicts {
        let addrs: Vec<String> = c.addresses.iter().map(|a| a.to_string()).collect();
        let from: Vec<String> = c.responders.iter().map(|a| a.ip().to_string()).collect();
        err.push(format!(
            "nbt: warning: name conflict: {} is a unique name, yet {} claimed it with \
             different addresses ({}) on {}",
            c.name,
            from.join(", "),
            addrs.join(", "),
            c.via
        ));
    }
    for n in &r.negative {
        err.push(format!(
            "nbt: {} answered that {} is not there: RCODE {} {} ({})",
            n.from.ip(),
            r.query,
            n.rcode,
            n.rcode_name,
            rcode_meaning(Rcode::new(n.rcode))
        ));
    }
    if r.results.is_empty() && r.negative.is_empty() {
        let to: Vec<String> = r
            .sent
            .iter()
            .map(|s| format!("{} on {}", s.to, s.via))
            .collect();
        err.push(format!(
            "nbt: no answer for {} within {} ({} to {})",
            r.query,
            show_duration(Duration::from_millis(r.timeout_ms as u64)),
            r.mode,
            to.join(", ")
        ));
    }
    if verbose {
        if let Some(s) = r.ignored.summary() {
            err.push(format!("nbt: {s}"));
        }
    }
    (out, err)
}

/// Everything a query collected.
#[derive(Debug)]
pub struct Collected {
    /// Where it went.
    pub sent: Vec<Sent>,
    /// Endpoint labels, by index.
    pub labels: Vec<String>,
    /// How long it collected.
    pub timeout: Duration,
    /// The answers used, in order of arrival.
    pub answers: Vec<Answer>,
    /// Replies not used.
    pub ignored: Ignored,
}

/// When a query stops collecting before its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// Collect for the whole timeout (broadcasts: every group member, every duplicate).
    Timeout,
    /// Stop at the first answer, positive or negative (unicast).
    FirstAnswer,
    /// Stop at the first positive answer with a unique address (resolving a host).
    FirstUnique,
    /// Collect until [`UNIQUE_GRACE`] after the first positive answer with a unique address,
    /// so that a conflicting claim is still heard (`nbt lookup` by broadcast).
    UniqueGrace,
}

/// Sends the query and collects answers.
pub async fn query(
    question: &ScopedName,
    target: &Target,
    timeout: Option<Duration>,
    retries: u32,
    stop: StopAt,
    global: &Global,
) -> anyhow::Result<Collected> {
    let trn_id = random_u16();
    let broadcast = matches!(target, Target::Broadcast(_));
    let mut packet = NameServicePacket::name_query(trn_id, question.clone(), broadcast);
    if matches!(target, Target::Wins(_)) {
        // What nmblookup -R sets: a WINS server looks its database up only then.
        packet.flags |= NmFlags::RECURSION_DESIRED;
    }
    let packet = packet.to_vec()?;
    let (endpoints, dests): (Vec<Endpoint>, Vec<(usize, SocketAddrV4)>) = match target {
        Target::Broadcast(choice) => {
            let ifaces = exchange::choose_interfaces(choice)?;
            let mut eps = Vec::new();
            let mut dests = Vec::new();
            for (k, i) in ifaces.iter().enumerate() {
                eps.push(exchange::broadcast_endpoint(i)?);
                dests.push((k, SocketAddrV4::new(i.broadcast, global.port)));
            }
            (eps, dests)
        }
        Target::Server(ip) | Target::Wins(ip) => (
            vec![exchange::unicast_endpoint()?],
            vec![(0, SocketAddrV4::new(*ip, global.port))],
        ),
    };
    let timeout = timeout.unwrap_or(if broadcast {
        BCAST_TIMEOUT
    } else {
        UCAST_TIMEOUT
    });
    let interval = if broadcast {
        BCAST_RETRY_INTERVAL
    } else {
        timeout / (retries + 1)
    };
    let labels: Vec<String> = endpoints.iter().map(|e| e.label.clone()).collect();
    let plan = Plan {
        packet: &packet,
        dests: dests.clone(),
        sends: retries + 1,
        interval,
        deadline: timeout,
    };
    let mut answers = Vec::new();
    let mut ignored = Ignored::default();
    exchange::run(
        &endpoints,
        &plan,
        global.verbose,
        |via, from, bytes| match classify(bytes, trn_id, question) {
            Ok(result) => {
                let unique = match &result {
                    QueryAnswer::Positive { addresses, .. } => {
                        addresses.iter().any(|a| !a.flags.is_group())
                    }
                    QueryAnswer::Negative(_) => false,
                };
                answers.push(Answer { via, from, result });
                match stop {
                    StopAt::FirstAnswer => Flow::Stop,
                    StopAt::FirstUnique if unique => Flow::Stop,
                    StopAt::UniqueGrace if unique => Flow::Within(UNIQUE_GRACE),
                    _ => Flow::Continue,
                }
            }
            Err(why) => {
                ignored.note(from, &why, global.verbose);
                Flow::Continue
            }
        },
    )
    .await?;
    Ok(Collected {
        sent: dests
            .iter()
            .map(|&(i, to)| Sent {
                via: labels[i].clone(),
                to,
            })
            .collect(),
        labels,
        timeout,
        answers,
        ignored,
    })
}

/// Runs `nbt lookup`.
pub async fn run(req: Request, global: &Global) -> anyhow::Result<Found> {
    let question = parse_name(&req.name)?;
    let mode = match req.target {
        Target::Broadcast(_) => "broadcast",
        Target::Server(_) => "unicast",
        Target::Wins(_) => "wins",
    };
    let stop = match req.target {
        _ if req.all => StopAt::Timeout,
        Target::Broadcast(_) => StopAt::UniqueGrace,
        Target::Server(_) | Target::Wins(_) => StopAt::FirstAnswer,
    };
    let c = query(
        &question,
        &req.target,
        req.timeout,
        req.retries,
        stop,
        global,
    )
    .await?;
    let r = report(
        &question, mode, c.sent, &c.labels, c.timeout, &c.answers, c.ignored,
    );
    if global.json {
        print_json(&r)?;
    } else {
        let (lines, err) = text(&r, global.verbose);
        for l in lines {
            out(l)?;
        }
        for l in err {
            eprintln!("{l}");
        }
    }
    Ok(if r.found { Found::Yes } else { Found::No })
}

/// Resolves a name to one address (by broadcast or from a server, as `target` says), for
/// commands that take a host: the first unique address answered, else the first address.
pub async fn resolve(
    name: &str,
    target: &Target,
    global: &Global,
) -> anyhow::Result<Option<Ipv4Addr>> {
    let question = parse_name(name)?;
    let c = query(&question, target, None, 2, StopAt::FirstUnique, global).await?;
    let mut first = None;
    for a in &c.answers {
        if let QueryAnswer::Positive { addresses, .. } = &a.result {
            if let Some(u) = addresses.iter().find(|a| !a.flags.is_group()) {
                return Ok(Some(u.addr));
            }
            first = first.or(addresses.first().map(|a| a.addr));
        }
    }
    Ok(first)
}

/// The address of a host given as an IPv4 address or as a NetBIOS name (resolved as `target`
/// says), with the name it was resolved from; `None` (after saying so on stderr) when no one
/// answered for the name.
pub async fn resolve_host(
    host: &str,
    target: &Target,
    global: &Global,
) -> anyhow::Result<Option<(Ipv4Addr, Option<ScopedName>)>> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Some((ip, None)));
    }
    if host.contains(':') {
        bail!("{host:?}: NetBIOS runs over IPv4 only; give an IPv4 address");
    }
    if host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        bail!("{host:?} is not an IPv4 address: write four numbers 0-255, e.g. 192.168.1.10");
    }
    let name = parse_name(host)?;
    match resolve(host, target, global).await? {
        Some(ip) => {
            if global.verbose {
                eprintln!("nbt: {name} is at {ip}");
            }
            Ok(Some((ip, Some(name))))
        }
        None => {
            eprintln!(
                "nbt: no answer for {name} {}; give the host's IP address instead",
                target.how()
            );
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests;
