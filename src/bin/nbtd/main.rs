//! `nbtd`: the NetBIOS name, datagram and session service daemon.
//!
//! Exit statuses are listed in [`nbtd::exit`].

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use cli::Cli;
use nbtd::config::{Config, Overrides, Settings, log_directive, read_hostname};
use nbtd::daemon::{self, DaemonError};
use nbtd::exit;
use tracing_subscriber::EnvFilter;

impl Cli {
    fn overrides(&self) -> Overrides {
        Overrides {
            netbios_name: self.netbios_name.clone(),
            workgroup: self.workgroup.clone(),
            interfaces: self.interfaces.clone(),
            state_dir: self.state_dir.clone(),
            control_socket: self.control_socket.clone(),
            name_port: self.name_port,
            datagram_port: self.datagram_port,
            session_port: self.session_port,
            log_level: self.log_level.clone(),
            os_level: self.os_level,
            preferred_master: self.preferred_master.then_some(true),
            local_master: self.no_local_master.then_some(false),
            comment: self.comment.clone(),
            user: self.user.clone(),
            drop_privileges: self.no_drop_privileges.then_some(false),
        }
    }
}

fn settings(cli: &Cli) -> Result<Settings, nbtd::config::ConfigError> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    config.apply(&cli.overrides());
    config.resolve(read_hostname)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match settings(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nbtd: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    if cli.check_config {
        println!(
            "# nbtd {}: the configuration is valid",
            env!("CARGO_PKG_VERSION")
        );
        print!("{}", settings.effective);
        return ExitCode::from(exit::OK);
    }
    let set_log_filter = init_logging(&cli, &settings);
    let ops = daemon::Operations {
        config_path: cli.config.clone(),
        overrides: cli.overrides(),
        set_log_filter,
    };
    match serve(settings, ops) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("nbtd: {e:#}");
            let code = e
                .downcast_ref::<DaemonError>()
                .map_or(exit::FAILURE, DaemonError::exit_code);
            ExitCode::from(code)
        }
    }
}

fn serve(settings: Settings, ops: daemon::Operations) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    rt.block_on(daemon::run_with(settings, ops))?;
    Ok(())
}

/// Logs to stderr: `--log-level`, else `RUST_LOG`, else the file's `log_level`. When the file
/// chose, returns how to change the filter at a reload.
fn init_logging(cli: &Cli, settings: &Settings) -> Option<daemon::LogFilterSetter> {
    // `--log-level` went into the settings and was checked there.
    let (directive, from_file) = match (&cli.log_level, std::env::var("RUST_LOG")) {
        (Some(_), _) => (settings.log_level.clone(), false),
        (None, Ok(env)) if !env.trim().is_empty() => match log_directive(&env) {
            Ok(d) => (d, false),
            Err(e) => {
                eprintln!("nbtd: RUST_LOG={env:?} is not a valid filter: {e}; logging at info");
                ("info".to_owned(), false)
            }
        },
        _ => (settings.log_level.clone(), true),
    };
    let filter = EnvFilter::builder().parse(&directive).unwrap_or_else(|e| {
        eprintln!("nbtd: log filter {directive:?} is not valid ({e}); logging at info");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter_reloading();
    let handle = builder.reload_handle();
    builder.init();
    from_file.then(|| -> daemon::LogFilterSetter {
        Box::new(move |directive: &str| {
            let filter = EnvFilter::builder()
                .parse(log_directive(directive)?)
                .map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        })
    })
}
