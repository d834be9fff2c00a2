//! `nbt canary`: a one-shot check of the LAN for NBT-NS poisoners (Responder and its kind). A
//! query for a random name that nobody registered is broadcast on each chosen interface; an
//! honest host never answers it, so every answer names a poisoner, with its MAC address from
//! the neighbour table. Exit status 0 when nobody answered, [`POISONER_EXIT`] when somebody
//! did, 2 for errors.

use std::net::Ipv4Addr;
use std::time::Duration;

use nbtd::protocol::name::{NetbiosName, ScopedName};
use serde::Serialize;

use crate::common::{Found, Global, out, print_json, random_u16, show_duration};
use crate::exchange::IfaceChoice;
use crate::lookup::{self, QueryAnswer, StopAt, Target};

/// The exit status when a poisoner answered.
pub const POISONER_EXIT: u8 = 4;

/// What `nbt canary` is asked.
#[derive(Debug)]
pub struct Request {
    /// Where to broadcast.
    pub ifaces: IfaceChoice,
    /// How long to collect answers.
    pub timeout: Duration,
}

/// A host that answered the canary.
#[derive(Debug, Serialize)]
struct Poisoner {
    address: Ipv4Addr,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    /// The address its answer gave for the name.
    claimed: Vec<Ipv4Addr>,
    /// The interface the answer came in on.
    via: String,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Report {
    name: String,
    interfaces: Vec<String>,
    timeout_ms: u128,
    poisoners: Vec<Poisoner>,
}

/// A random name nobody registered: 15 upper-case letters and digits.
fn canary_name() -> NetbiosName {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let text: String = (0..15)
        .map(|_| char::from(ALPHABET[usize::from(random_u16()) % ALPHABET.len()]))
        .collect();
    NetbiosName::new(&text, 0x00).unwrap_or(NetbiosName::WILDCARD)
}

/// Runs `nbt canary`.
pub async fn run(req: Request, global: &Global) -> anyhow::Result<Found> {
    let name = canary_name();
    let question = ScopedName::unscoped(name);
    let target = Target::Broadcast(req.ifaces);
    let c = lookup::query(
        &question,
        &target,
        Some(req.timeout),
        2,
        StopAt::Timeout,
        global,
    )
    .await?;
    let mut poisoners: Vec<Poisoner> = Vec::new();
    for a in &c.answers {
        let QueryAnswer::Positive { addresses, .. } = &a.result else {
            continue;
        };
        let from = *a.from.ip();
        if poisoners.iter().any(|p| p.address == from) {
            continue;
        }
        poisoners.push(Poisoner {
            address: from,
            mac: nbtd::iface::neighbour_mac(from),
            claimed: addresses.iter().map(|n| n.addr).collect(),
            via: c.labels.get(a.via).cloned().unwrap_or_default(),
        });
    }
    let report = Report {
        name: name.to_string(),
        interfaces: c.labels.clone(),
        timeout_ms: c.timeout.as_millis(),
        poisoners,
    };
    if global.json {
        print_json(&report)?;
    } else if report.poisoners.is_empty() {
        out(format_args!(
            "no answer to a broadcast query for {} on {} within {}: no poisoner seen",
            report.name,
            report.interfaces.join(", "),
            show_duration(c.timeout)
        ))?;
    } else {
        for p in &report.poisoners {
            let claimed: Vec<String> = p.claimed.iter().map(Ipv4Addr::to_string).collect();
            out(format_args!(
                "POISONER {} ({}) on {} answered {}, a name nobody registered, claiming {}",
                p.address,
                p.mac.as_deref().unwrap_or("MAC unknown"),
                p.via,
                report.name,
                claimed.join(", ")
            ))?;
        }
    }
    Ok(if report.poisoners.is_empty() {
        Found::Yes
    } else {
        Found::Alarm
    })
}
