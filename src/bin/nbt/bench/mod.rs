//! `nbt bench`: the tools of the benchmark (`contrib/bench/run.sh`): a load generator for the
//! name service, the reference responder, and browse-list load. Hidden from `nbt --help`: they
//! are measuring tools, not lookups.

mod browse;
mod load;
mod responder;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use nbtd::protocol::NetbiosName;

use crate::cli::parse_duration;
use crate::common::Found;

/// The benchmark tools.
#[derive(Debug, Parser)]
#[command(name = "nbt bench")]
struct BenchArgs {
    /// UDP port of the name service (load, responder).
    #[arg(long, global = true, default_value_t = 137, value_name = "PORT")]
    port: u16,
    #[command(subcommand)]
    tool: Tool,
}

#[derive(Debug, Subcommand)]
enum Tool {
    /// Keep a window of unicast requests in flight to one server; print answered/s and
    /// p50/p99 latency as JSON.
    Load(LoadArgs),
    /// The reference ceiling: one recv_from, a fixed answer, one send_to, forever.
    Responder(ResponderArgs),
    /// Announce synthetic servers to a master browser (HostAnnouncement on UDP 138).
    Announce(AnnounceArgs),
    /// Time the listing of a master's browse list over SMB1 (NetServerEnum2); print JSON.
    List(ListArgs),
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// The server's address.
    target: Ipv4Addr,
    /// The name asked for (suffix 00).
    name: String,
    /// Name queries or node status requests.
    #[arg(long, value_enum, default_value = "query")]
    kind: load::Kind,
    /// Requests in flight.
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// How long to measure.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    duration: Duration,
    /// How long to run before measuring.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    warmup: Duration,
    /// Most requests sent in all.
    #[arg(long, default_value_t = 10_000_000)]
    max_requests: u64,
    /// A request unanswered after this counts as lost.
    #[arg(long, value_parser = parse_duration, default_value = "200ms")]
    timeout: Duration,
    /// The server's PID, to report its CPU use.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Poll the socket without sleeping while waiting for answers (the generator takes a whole
    /// core), so that its own wake-ups do not count in the round trip.
    #[arg(long)]
    busy_poll: bool,
}

#[derive(Debug, Args)]
struct ResponderArgs {
    /// The address to answer on.
    addr: Ipv4Addr,
    /// The name its answers carry (suffix 00).
    name: String,
    /// The workgroup in its node status answers.
    #[arg(long, default_value = "WORKGROUP")]
    workgroup: String,
}

#[derive(Debug, Args)]
struct AnnounceArgs {
    /// Our own address (the datagrams carry it; the master must see it on its subnet).
    source: Ipv4Addr,
    /// The master browser's address.
    master: Ipv4Addr,
    /// The workgroup.
    workgroup: String,
    /// How many servers.
    #[arg(long, default_value_t = 10_000)]
    count: u32,
    /// Their names: the prefix and 5 digits.
    #[arg(long, default_value = "BENCH")]
    prefix: String,
    /// Most announcements a second.
    #[arg(long, default_value_t = 2_000)]
    rate: u32,
    /// UDP port of the datagram service.
    #[arg(long, default_value_t = 138)]
    datagram_port: u16,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The master browser's address.
    server: Ipv4Addr,
    /// The workgroup to list.
    workgroup: String,
    /// TCP port of the session service.
    #[arg(long, default_value_t = 139)]
    session_port: u16,
    /// How long the connection and each reply may take.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    timeout: Duration,
}

fn name(text: &str) -> anyhow::Result<NetbiosName> {
    NetbiosName::new(text, 0).map_err(|e| anyhow::anyhow!("{text:?} is not a NetBIOS name: {e}"))
}

/// Parses the tool's command line and runs it.
pub async fn run(args: impl Iterator<Item = std::ffi::OsString>) -> anyhow::Result<Found> {
    let args = BenchArgs::parse_from(std::iter::once("nbt bench".into()).chain(args));
    let port = args.port;
    match args.tool {
        Tool::Load(a) => {
            let req = load::LoadRequest {
                target: SocketAddrV4::new(a.target, port),
                name: name(&a.name)?,
                kind: a.kind,
                window: a.window,
                duration: a.duration,
                warmup: a.warmup,
                max_requests: a.max_requests,
                timeout: a.timeout,
                server_pid: a.server_pid,
                busy_poll: a.busy_poll,
            };
            let report = tokio::task::spawn_blocking(move || load::run(&req)).await??;
            crate::common::out(serde_json::to_string(&report)?)?;
            Ok(if report.answered > 0 {
                Found::Yes
            } else {
                Found::No
            })
        }
        Tool::Responder(a) => {
            let (n, wg) = (name(&a.name)?, name(&a.workgroup)?);
            let bind = SocketAddrV4::new(a.addr, port);
            tokio::task::spawn_blocking(move || responder::run(bind, n, wg)).await??;
            Ok(Found::Yes)
        }
        Tool::Announce(a) => {
            let wg = name(&a.workgroup)?;
            tokio::task::spawn_blocking(move || {
                browse::announce(
                    a.source,
                    a.master,
                    a.datagram_port,
                    wg,
                    &a.prefix,
                    a.count,
                    a.rate,
                )
            })
            .await??;
            Ok(Found::Yes)
        }
        Tool::List(a) => {
            let r = browse::list(a.server, a.session_port, &a.workgroup, a.timeout).await?;
            crate::common::out(serde_json::to_string(&r)?)?;
            Ok(if r.servers > 0 { Found::Yes } else { Found::No })
        }
    }
}
