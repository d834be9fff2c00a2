//! `nbt`: NetBIOS lookups, node status, subnet scans, share and browse lists from the command
//! line.
//!
//! Exit status: 0 when something was found, 1 when nothing was (no answer, or a negative
//! answer), 2 for usage and other errors, 4 when `nbt canary` found a poisoner.

#![forbid(unsafe_code)]
// Doc comments here are the command's help text: `NAME<XX>` is meant for people, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod bench;
mod canary;
mod cidr;
mod cli;
mod common;
mod daemon;
mod exchange;
mod lookup;
mod pace;
mod scan;
mod shares;
mod status;
mod view;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, IfaceArgs};
use common::{Found, Global};

fn main() -> ExitCode {
    // `nbt bench` is the benchmark's tool box (contrib/bench/run.sh), not a lookup: it has a
    // command line of its own, kept out of the help, the manual pages and the completions.
    if std::env::args_os().nth(1).is_some_and(|a| a == "bench") {
        return finish(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(bench::run(std::env::args_os().skip(2)))),
        );
    }
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
    finish(result)
}

/// The exit status for a command's result, with the error on stderr.
fn finish(result: anyhow::Result<Found>) -> ExitCode {
    match result {
        Ok(Found::Yes) => ExitCode::SUCCESS,
        Ok(Found::No) => ExitCode::from(1),
        Ok(Found::Alarm) => ExitCode::from(canary::POISONER_EXIT),
        Err(e) => {
            eprintln!("nbt: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command, global: &Global) -> anyhow::Result<Found> {
    match command {
        Command::Lookup(a) => {
            let target = match (a.server, a.wins) {
                (Some(ip), _) => lookup::Target::Server(ip),
                (None, Some(ip)) => lookup::Target::Wins(ip),
                (None, None) => lookup::Target::Broadcast(a.iface.into()),
            };
            lookup::run(
                lookup::Request {
                    name: a.name,
                    target,
                    timeout: a.timeout,
                    retries: a.retries,
                    all: a.all,
                },
                global,
            )
            .await
        }
        Command::Status(a) => {
            status::run(
                status::Request {
                    host: a.host,
                    resolver: lookup::Target::resolver(a.wins, a.iface),
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
                    resolver: lookup::Target::resolver(a.wins, a.iface),
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
        Command::Daemon(a) => daemon::run(&a.control_socket, global),
        Command::Canary(a) => {
            canary::run(
                canary::Request {
                    ifaces: a.iface.into(),
                    timeout: a.timeout,
                },
                global,
            )
            .await
        }
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
    use cli::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("800ms"), Ok(Duration::from_millis(800)));
        assert_eq!(parse_duration(" 3 "), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("1e9").is_err());
    }

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
