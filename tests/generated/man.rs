//! nbtd(8), nbt(1) and one page per nbt subcommand (nbt-lookup(1), …), from the command lines:
//! clap_mangen writes the name, synopsis, description and options from the help texts, and the
//! sections below add what a command line does not say (exit statuses, files, examples).

use clap::CommandFactory;
use clap_mangen::Man;
use roff::{Inline, Roff, bold, italic, roman};

use super::{Generated, nbt_cli, nbtd_cli};

/// The manual every page belongs to, shown in each page's header.
pub const MANUAL: &str = "nbtd manual";

/// The date field of `.TH`, left blank: a date would change the pages on every regeneration.
/// `\&` (a zero-width character) keeps the field, so that the fields after it stay in place.
pub const NO_DATE: &str = "\\&";

/// The `.TH` source field: the package and its version.
pub fn source() -> String {
    format!("nbtd {}", env!("CARGO_PKG_VERSION"))
}

/// Every page generated from a command line.
pub fn pages() -> Vec<Generated> {
    let mut pages = vec![nbtd_page()];
    let mut nbt = nbt_cli::Cli::command().disable_help_subcommand(true);
    nbt.build();
    pages.push(nbt_page(&nbt));
    for sub in nbt.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(nbt_subcommand_page(sub));
    }
    pages
}

/// Renders the page of `cmd`: clap_mangen's sections, then `extra`, then the version (the top
/// commands have one, subcommands do not).
fn render(cmd: clap::Command, title: &str, section: &str, extra: &Roff) -> String {
    let has_subcommands = cmd.has_subcommands();
    let has_version = cmd.get_version().is_some();
    let man = Man::new(cmd)
        .title(title)
        .section(section)
        .date(NO_DATE)
        .source(source())
        .manual(MANUAL);
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    if has_subcommands {
        man.render_subcommands_section(&mut out).unwrap();
    }
    extra.to_writer(&mut out).unwrap();
    if has_version {
        man.render_version_section(&mut out).unwrap();
    }
    let text = String::from_utf8(out).expect("manual pages are UTF-8");
    // Each section comes with roff's preamble (how to print an apostrophe): keep the first.
    let preamble = Roff::new().render();
    format!("{preamble}{}", text.replace(&preamble, ""))
}

fn section(r: &mut Roff, title: &str) {
    r.control("SH", [title]);
}

fn paragraph(r: &mut Roff, text: impl Into<Vec<Inline>>) {
    r.control("PP", []);
    r.text(text);
}

/// A tagged paragraph: `tag` in bold, then `text`.
fn item(r: &mut Roff, tag: &str, text: impl Into<Vec<Inline>>) {
    r.control("TP", []);
    r.text([bold(tag)]);
    r.text(text);
}

/// Example commands, each with what it does.
fn examples(r: &mut Roff, list: &[(&str, &str)]) {
    section(r, "EXAMPLES");
    for (command, what) in list {
        item(r, command, [roman(*what)]);
    }
}

/// SEE ALSO: pages as `name(section)`, comma-separated.
fn see_also(r: &mut Roff, refs: &[(&str, &str)]) {
    section(r, "SEE ALSO");
    let mut line = Vec::new();
    for (i, (name, sect)) in refs.iter().enumerate() {
        line.push(bold(*name));
        let sep = if i + 1 == refs.len() { "" } else { ", " };
        line.push(roman(format!("({sect}){sep}")));
    }
    r.text(line);
}

fn exit_statuses(r: &mut Roff, list: &[(u8, &str)]) {
    section(r, "EXIT STATUS");
    for (code, meaning) in list {
        item(r, &code.to_string(), [roman(*meaning)]);
    }
}

fn nbtd_page() -> Generated {
    let mut r = Roff::new();
    exit_statuses(&mut r, &nbtd_cli::EXIT_STATUSES);

    section(&mut r, "SIGNALS");
    item(
        &mut r,
        "SIGTERM, SIGINT",
        [roman(
            "Stop cleanly: announce that this host goes down (ServerType 0, so that browsers \
             drop it at once), force an election if it is the master, release its names, save \
             the browse list, and exit with status 0.",
        )],
    );

    item(
        &mut r,
        "SIGHUP",
        [roman(
            "Re-read the configuration file. The shares, the [browser] settings (except \
             local_master), the interface allow and deny lists and log_level change at once; \
             names and the browse list are kept. An address the new lists exclude is left as \
             at SIGTERM (a ServerType 0 announcement, an election if it was the master, its \
             names released) and no longer served. A new name, workgroup, port, path, [session] or \
             [metrics] setting waits for a restart, with a warning. A file with an error is \
             refused, with the error logged, and nbtd runs on as before.",
        )],
    );

    section(&mut r, "FILES");
    item(
        &mut r,
        "/etc/nbtd/nbtd.toml",
        [
            roman("The configuration file the systemd unit passes with "),
            bold("--config"),
            roman("; see "),
            bold("nbtd.toml"),
            roman("(5). Without "),
            bold("--config"),
            roman(" nbtd reads no file and runs on its defaults."),
        ],
    );
    item(
        &mut r,
        "/var/lib/nbtd/browse.json",
        [roman(
            "The browse list, saved while it changes and at exit, and loaded at start (the state \
             directory, state_dir). A file that does not load is moved aside with the reason.",
        )],
    );
    item(
        &mut r,
        "/run/nbtd/control.sock",
        [
            roman("The control socket (mode 0660) that "),
            bold("nbt daemon"),
            roman(" and "),
            bold("nbt view"),
            roman(" ask."),
        ],
    );

    section(&mut r, "ENVIRONMENT");
    item(
        &mut r,
        "RUST_LOG",
        [roman(
            "The log filter when --log-level is not given, e.g. info or info,nbtd=debug; it takes \
             precedence over the file's log_level.",
        )],
    );

    item(
        &mut r,
        "NOTIFY_SOCKET",
        [roman(
            "Set by systemd for a Type=notify unit: nbtd sends READY=1 once it serves (after \
             binding its ports and dropping privileges), RELOADING=1 and READY=1 around a \
             SIGHUP reload, and STOPPING=1 when it stops. Its STATUS line begins with NAME \
             CONFLICT when another host holds one of its names (systemctl status shows it).",
        )],
    );

    section(&mut r, "NOTES");
    paragraph(
        &mut r,
        [roman(
            "nbtd replaces Samba's nmbd, and the two cannot share UDP 137 and 138: stop nmbd and \
             keep it stopped (systemctl disable --now nmbd), or set \"disable netbios = yes\" in \
             smb.conf. nbtd exits with status 4 and says so when it finds the port taken. \
             Samba's smbd may keep TCP 139: nbtd then leaves the port to it, with one warning.",
        )],
    );
    paragraph(
        &mut r,
        [roman(
            "Windows 10 and 11 no longer browse by NetBIOS in Explorer's Network view: they find \
             hosts by WS-Discovery. Run wsdd (or wsdd2) next to nbtd for them; nbtd still serves \
             name lookups, \\\\NAME paths, net view and older clients.",
        )],
    );
    paragraph(
        &mut r,
        [roman(
            "A container must share the host's network (host networking): on a bridged \
             container network the LAN's broadcasts never reach nbtd, and nbtd would announce the \
             container's address.",
        )],
    );

    examples(
        &mut r,
        &[
            (
                "nbtd --check-config --config /etc/nbtd/nbtd.toml",
                "Check a configuration file and print it with every default filled in.",
            ),
            (
                "nbtd --netbios-name NAS --workgroup HOME \
                 --interfaces eth0",
                "Serve the name NAS in workgroup HOME on eth0 only.",
            ),
            (
                "nbtd --config /etc/nbtd/nbtd.toml --os-level 65 \
                 --log-level debug",
                "Win browser elections against Samba and Windows, and log at debug level.",
            ),
        ],
    );
    see_also(
        &mut r,
        &[
            ("nbt", "1"),
            ("nbtd.toml", "5"),
            ("nmbd", "8"),
            ("smb.conf", "5"),
            ("ksmbd.mountd", "8"),
            ("wsdd", "8"),
            ("systemd.exec", "5"),
        ],
    );
    Generated {
        path: "man/nbtd.8".into(),
        text: render(nbtd_cli::Cli::command(), "NBTD", "8", &r),
    }
}

fn nbt_page(nbt: &clap::Command) -> Generated {
    let mut r = Roff::new();
    paragraph(
        &mut r,
        [
            roman("Each subcommand has its own page: "),
            italic("nbt help SUBCOMMAND"),
            roman(" or "),
            bold("man nbt-SUBCOMMAND"),
            roman("."),
        ],
    );
    exit_statuses(&mut r, &nbt_cli::EXIT_STATUSES);
    section(&mut r, "FILES");
    item(
        &mut r,
        "/run/nbtd/control.sock",
        [
            roman("The local nbtd's control socket, asked by "),
            bold("nbt daemon"),
            roman(" and "),
            bold("nbt view"),
            roman("."),
        ],
    );
    let mut list: Vec<(&str, &str)> = Vec::new();
    for sub in nbt.get_subcommands() {
        list.extend(subcommand_examples(sub.get_name()));
    }
    examples(&mut r, &list);
    let mut refs: Vec<(String, &str)> = nbt
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| (format!("nbt-{}", s.get_name()), "1"))
        .collect();
    refs.extend(
        [
            ("nbtd", "8"),
            ("nmblookup", "1"),
            ("smbclient", "1"),
            ("nbtscan", "1"),
        ]
        .map(|(n, s)| (n.to_owned(), s)),
    );
    let refs: Vec<(&str, &str)> = refs.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    see_also(&mut r, &refs);
    Generated {
        path: "man/nbt.1".into(),
        text: render(nbt.clone(), "NBT", "1", &r),
    }
}

fn nbt_subcommand_page(sub: &clap::Command) -> Generated {
    let display = sub
        .get_display_name()
        .expect("a built command names its subcommands nbt-NAME")
        .to_owned();
    let mut r = Roff::new();
    exit_statuses(&mut r, &nbt_cli::EXIT_STATUSES);
    let list = subcommand_examples(sub.get_name());
    if !list.is_empty() {
        examples(&mut r, list);
    }
    let mut refs = vec![("nbt", "1")];
    refs.extend(subcommand_see_also(sub.get_name()));
    see_also(&mut r, &refs);
    Generated {
        text: render(sub.clone(), &display.to_uppercase(), "1", &r),
        path: format!("man/{display}.1"),
    }
}

fn subcommand_examples(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "lookup" => &[
            (
                "nbt lookup ALPHA",
                "Broadcast on the first usable interface: who has ALPHA<00>.",
            ),
            (
                "nbt lookup 'LABWG#1d'",
                "Who is the local master browser of LABWG.",
            ),
            (
                "nbt lookup ALPHA --server 10.0.0.5",
                "Ask one host or name server by unicast.",
            ),
        ],
        "status" => &[(
            "nbt status 192.168.1.20",
            "Its name table and MAC address, like nbtstat -A.",
        )],
        "scan" => &[(
            "nbt scan 192.168.1.0/24",
            "The node status of every address of the subnet, paced.",
        )],
        "shares" => &[(
            "nbt shares ALPHA",
            "The shares of ALPHA over SMB1 on TCP 139, like smbclient -L ALPHA -N.",
        )],
        "view" => &[
            ("nbt view", "The machines of our workgroup, like net view."),
            ("nbt view --workgroups", "The workgroups and their masters."),
            (
                "nbt view HOME --lan --json",
                "Ask the LAN, not the local nbtd, for workgroup HOME, and print JSON.",
            ),
        ],
        "daemon" => &[(
            "nbt daemon",
            "The local nbtd: its names, roles and counters.",
        )],
        "canary" => &[
            (
                "nbt canary",
                "Is an NBT-NS poisoner on the LAN? Exit status 4 if one answered.",
            ),
            (
                "nbt canary --all-ifaces --json",
                "The same on every interface, as JSON for monitoring.",
            ),
        ],
        _ => &[],
    }
}

fn subcommand_see_also(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "lookup" => &[("nmblookup", "1")],
        "status" | "scan" => &[("nmblookup", "1"), ("nbtscan", "1")],
        "shares" => &[("smbclient", "1")],
        "view" => &[("smbtree", "1"), ("net", "8")],
        "daemon" | "canary" => &[("nbtd", "8")],
        _ => &[],
    }
}
