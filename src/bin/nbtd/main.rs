//! `nbtd`: the NetBIOS name, datagram and session service daemon.
//!
//! Exit statuses are listed in [`nbtd::exit`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use nbtd::config::{Config, Overrides, Settings, read_hostname};
use nbtd::daemon::{self, DaemonError};
use nbtd::exit;
use tracing_subscriber::EnvFilter;

/// NetBIOS name, datagram and session service with a browse master: answers for this host's
/// NetBIOS name on the LAN, takes part in browsing (announcements, elections, the browse list)
/// and lists shares, servers and workgroups on TCP 139, in place of Samba's nmbd.
///
/// Runs on built-in defaults with no configuration file: the NetBIOS name is the host name and
/// the workgroup is WORKGROUP. Flags override the file. Started as root, it becomes the user
/// `user` (default nbtd) once its ports are bound. SIGHUP re-reads the file; SIGTERM releases
/// the names and stops.
///
/// Exit status: 0 stopped cleanly (or the configuration is valid), 1 invalid configuration,
/// 2 usage error, 3 no usable interface, 4 port in use (Samba's nmbd?), 5 permission denied,
/// 6 any other failure.
#[derive(Debug, Parser)]
#[command(name = "nbtd", version)]
struct Cli {
    /// The configuration file (TOML; see contrib/nbtd.toml).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check the configuration, print it with every default filled in, and exit.
    #[arg(long)]
    check_config: bool,
    /// The NetBIOS name (default: the host name, upper-cased, cut to 15 characters).
    #[arg(long, value_name = "NAME")]
    netbios_name: Option<String>,
    /// The workgroup (default WORKGROUP).
    #[arg(long, value_name = "NAME")]
    workgroup: Option<String>,
    /// Serve only these interfaces (comma-separated or repeated; `*` matches any run of
    /// characters). Naming lo or a container bridge allows it.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    interfaces: Option<Vec<String>>,
    /// Where state is kept (default /var/lib/nbtd).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// The control socket (default /run/nbtd/control.sock).
    #[arg(long, value_name = "PATH")]
    control_socket: Option<PathBuf>,
    /// The name service UDP port (default 137; change it only to test).
    #[arg(long, value_name = "PORT")]
    name_port: Option<u16>,
    /// The datagram service UDP port, where the browser runs (default 138; change it only to
    /// test).
    #[arg(long, value_name = "PORT")]
    datagram_port: Option<u16>,
    /// The session service TCP port (default 139; not served yet).
    #[arg(long, value_name = "PORT")]
    session_port: Option<u16>,
    /// Log level or filter: error, warn, info, debug, trace, or e.g. info,nbtd=debug.
    /// Takes precedence over RUST_LOG, which takes precedence over the file's log_level.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// The browser's OS level in elections, 0 to 255: the highest wins (default 20, as Samba;
    /// 65 beats Samba and Windows).
    #[arg(long, value_name = "N")]
    os_level: Option<u8>,
    /// Stand as preferred master: start an election at once.
    #[arg(long)]
    preferred_master: bool,
    /// Never become a browser: only announce this host.
    #[arg(long)]
    no_local_master: bool,
    /// The comment others list next to this host (at most 48 printable ASCII characters).
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// The user to become once the ports are bound, when started as root (default nbtd, or
    /// nobody when there is no user nbtd).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Keep running as root: do not become the unprivileged user.
    #[arg(long)]
    no_drop_privileges: bool,
}

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
    let (directive, from_file) = match (&cli.log_level, std::env::var("RUST_LOG")) {
        (Some(l), _) => (l.clone(), false),
        (None, Ok(env)) if !env.trim().is_empty() => (env, false),
        _ => (settings.log_level.clone(), true),
    };
    let filter = EnvFilter::builder().parse(&directive).unwrap_or_else(|e| {
        eprintln!("nbtd: RUST_LOG={directive:?} is not a valid filter ({e}); logging at info");
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
                .parse(directive)
                .map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        })
    })
}
