//! `nbt`: NetBIOS lookups, node status, subnet scans, share and browse lists from the command
//! line.
//!
//! Exit status: 0 when something was found, 1 when nothing was (no answer, or a negative
//! answer), 2 for usage and other errors.

#![forbid(unsafe_code)]
// Doc comments here are the command's help text: `NAME<XX>` is meant for people, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod bench;
mod cidr;
mod common;
mod exchange;
mod lookup;
mod pace;
mod scan;
mod shares;
mod status;
mod view;

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use common::{Found, Global, parse_duration};

/// Command line of `nbt`.
#[derive(Debug, Parser)]
#[command(
    name = "nbt",
    version,
    about = "NetBIOS name lookups, node status, subnet scans, shares and browse lists",
    after_help = "Exit status: 0 found, 1 not found (no answer or a negative answer), 2 error."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// UDP port of the name service to send to.
    #[arg(long, global = true, default_value_t = 137, value_name = "PORT")]
    port: u16,
    /// Say on stderr what is sent and which replies are ignored, and why.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Look a NetBIOS name up, by broadcast on the LAN or by asking one server.
    Lookup(LookupArgs),
    /// Ask one host for its name table and MAC address (node status, like `nbtstat -A`).
    Status(StatusArgs),
    /// Ask every address of a range for its node status.
    Scan(ScanArgs),
    /// List a host's shares over SMB1 on TCP 139 (like `smbclient -L HOST -N`).
    Shares(SharesArgs),
    /// List a workgroup's machines, or the workgroups with their masters (like `net view`).
    View(ViewArgs),
    /// Show the local nbtd's state: names per interface and their state, and counters.
    Daemon(DaemonArgs),
    /// Benchmark tools (contrib/bench/run.sh): load generator, reference responder.
    #[command(hide = true)]
    Bench(bench::BenchArgs),
}

#[derive(Debug, Args)]
struct ViewArgs {
    /// The workgroup (default: the local nbtd's, else WORKGROUP).
    workgroup: Option<String>,
    /// List the workgroups and their masters instead.
    #[arg(long, conflicts_with = "workgroup")]
    workgroups: bool,
    /// Ask the LAN even when a local nbtd runs.
    #[arg(long, conflicts_with = "daemon")]
    lan: bool,
    /// Ask only the local nbtd.
    #[arg(long)]
    daemon: bool,
    /// The local nbtd's control socket.
    #[arg(long, value_name = "PATH", default_value = nbtd::config::DEFAULT_CONTROL_SOCKET)]
    control_socket: std::path::PathBuf,
    #[command(flatten)]
    iface: IfaceArgs,
    /// How long each step on the LAN waits for answers.
    #[arg(long, value_parser = parse_duration, default_value = "1s", value_name = "DURATION")]
    timeout: Duration,
    /// UDP port of the datagram service (GetBackupListRequest).
    #[arg(long, default_value_t = 138, value_name = "PORT")]
    datagram_port: u16,
    /// TCP port of the session service (the browse list, over SMB1).
    #[arg(long, default_value_t = 139, value_name = "PORT")]
    session_port: u16,
}

#[derive(Debug, Args)]
struct SharesArgs {
    /// The host: an IPv4 address, or a NetBIOS name to look up by broadcast first.
    host: String,
    #[command(flatten)]
    iface: IfaceArgs,
    /// How long the connection and each reply may take, e.g. 5, 5s or 800ms.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "TIME")]
    timeout: Duration,
    /// TCP port of the session service.
    #[arg(long, default_value_t = 139, value_name = "PORT")]
    session_port: u16,
}

#[derive(Debug, Args)]
struct DaemonArgs {
    /// The daemon's control socket.
    #[arg(long, value_name = "PATH", default_value = nbtd::config::DEFAULT_CONTROL_SOCKET)]
    control_socket: std::path::PathBuf,
}

/// Where a broadcast goes: one interface, the first usable one, or all of them.
#[derive(Debug, Args, Clone, Default)]
struct IfaceArgs {
    /// Broadcast on this interface (default: the first usable one).
    #[arg(long, value_name = "NAME", conflicts_with = "all_ifaces")]
    iface: Option<String>,
    /// Broadcast on every usable interface.
    #[arg(long)]
    all_ifaces: bool,
}

#[derive(Debug, Args)]
struct LookupArgs {
    /// The name: NAME, NAME#XX or NAME<XX> with the suffix in hex (default <00>).
    name: String,
    #[command(flatten)]
    iface: IfaceArgs,
    /// Ask this server by unicast instead of broadcasting.
    #[arg(long, value_name = "IP", conflicts_with_all = ["iface", "all_ifaces"])]
    server: Option<Ipv4Addr>,
    /// How long to collect answers, e.g. 1.5, 2s or 800ms [default: 1.5s broadcast, 2s unicast].
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    timeout: Option<Duration>,
    /// Times to repeat the query after the first (250 ms apart for broadcasts).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The host: an IPv4 address, or a NetBIOS name to look up by broadcast first.
    host: String,
    #[command(flatten)]
    iface: IfaceArgs,
    /// How long to wait for the answer, e.g. 2, 2s or 800ms.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "TIME")]
    timeout: Duration,
    /// Times to repeat the request after the first, spread over the timeout.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// The range: ADDRESS/PREFIX (at most a /16) or one address.
    range: String,
    /// Requests per second.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Times to ask an address again when it did not answer.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=5))]
    retries: u32,
    /// How long to wait for answers after the last request of each round, e.g. 1, 1s or 500ms.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "TIME")]
    timeout: Duration,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        json: cli.global.json,
        port: cli.global.port,
        verbose: cli.global.verbose,
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(cli.command, &global)));
    match result {
        Ok(Found::Yes) => ExitCode::SUCCESS,
        Ok(Found::No) => ExitCode::from(1),
        Err(e) => {
            eprintln!("nbt: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command, global: &Global) -> anyhow::Result<Found> {
    match command {
        Command::Lookup(a) => {
            let target = match a.server {
                Some(ip) => lookup::Target::Server(ip),
                None => lookup::Target::Broadcast(a.iface.into()),
            };
            lookup::run(
                lookup::Request {
                    name: a.name,
                    target,
                    timeout: a.timeout,
                    retries: a.retries,
                },
                global,
            )
            .await
        }
        Command::Status(a) => {
            status::run(
                status::Request {
                    host: a.host,
                    ifaces: a.iface.into(),
                    timeout: a.timeout,
                    retries: a.retries,
                },
                global,
            )
            .await
        }
        Command::Shares(a) => {
            shares::run(
                shares::Request {
                    host: a.host,
                    ifaces: a.iface.into(),
                    timeout: a.timeout,
                    session_port: a.session_port,
                },
                global,
            )
            .await
        }
        Command::View(a) => {
            let req = view::Request {
                workgroup: a.workgroup,
                workgroups: a.workgroups,
                source: match (a.lan, a.daemon) {
                    (true, _) => view::Source::Lan,
                    (_, true) => view::Source::Daemon,
                    _ => view::Source::Auto,
                },
                control_socket: a.control_socket,
                ifaces: a.iface.into(),
                timeout: a.timeout,
                datagram_port: a.datagram_port,
                session_port: a.session_port,
            };
            view::run(&req, global).await
        }
        Command::Daemon(a) => {
            let status = nbtd::control::query_status(&a.control_socket)?;
            if global.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", nbtd::control::render_status(&status));
            }
            Ok(Found::Yes)
        }
        Command::Bench(a) => bench::run(a, global.port).await,
        Command::Scan(a) => {
            scan::run(
                scan::Request {
                    range: a.range,
                    rate: a.rate,
                    retries: a.retries,
                    timeout: a.timeout,
                },
                global,
            )
            .await
        }
    }
}

impl From<IfaceArgs> for exchange::IfaceChoice {
    fn from(a: IfaceArgs) -> Self {
        match (a.iface, a.all_ifaces) {
            (Some(name), _) => exchange::IfaceChoice::Named(name),
            (None, true) => exchange::IfaceChoice::All,
            (None, false) => exchange::IfaceChoice::First,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_excludes_iface() {
        let r = Cli::try_parse_from(["nbt", "lookup", "X", "--server", "1.2.3.4", "--iface", "a"]);
        assert!(r.is_err());
    }

    #[test]
    fn global_flags_after_subcommand() {
        let c = Cli::try_parse_from(["nbt", "lookup", "X", "--json", "--port", "1137"]).unwrap();
        assert!(c.global.json);
        assert_eq!(c.global.port, 1137);
    }
}
