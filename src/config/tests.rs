//! Loading, overriding and checking the configuration.

use super::*;

fn host(name: &str) -> impl FnOnce() -> std::io::Result<String> + use<> {
    let name = name.to_owned();
    move || Ok(name)
}

#[test]
fn session_and_shares() {
    let c = Config::parse(
        "[session]\nenabled = \"yes\"\nmax_connections = 8\n\
         [[share]]\nname = \"public\"\ncomment = \"files\"\n\
         [[share]]\nname = \"lp\"\ntype = \"printer\"\n",
    )
    .unwrap();
    let s = c.resolve(host("h")).unwrap();
    assert_eq!(s.session.enabled, SessionMode::Yes);
    assert_eq!(s.session.max_connections, 8);
    assert_eq!(s.session.idle_timeout_secs, 120, "defaults fill the rest");
    assert_eq!(s.session.max_connections_per_source, 8);
    assert_eq!(s.session.write_timeout_secs, 20);
    assert_eq!(s.shares.len(), 2);
    assert_eq!(s.shares[0].kind, ShareKind::Disk);
    assert_eq!(s.shares[1].kind, ShareKind::Printer);
    for (text, key) in [
        ("[[share]]\nname = \"thirteenchars\"", "share.name"),
        (
            "[[share]]\nname = \"a\"\n[[share]]\nname = \"A\"",
            "share.name",
        ),
        ("[session]\nmax_connections = 0", "session.max_connections"),
        ("[session]\nmax_frame_len = 100", "session.max_frame_len"),
        (
            "[session]\nmax_connections_per_source = 0",
            "session.max_connections_per_source",
        ),
        (
            "[session]\nmax_connections = 4\nmax_connections_per_source = 5",
            "session.max_connections_per_source",
        ),
        (
            "[session]\nwrite_timeout_secs = 0",
            "session.write_timeout_secs",
        ),
    ] {
        let e = Config::parse(text).unwrap().resolve(host("h")).unwrap_err();
        assert!(e.to_string().starts_with(key), "{text}: {e}");
    }
    assert!(Config::parse("[session]\nenabled = \"maybe\"").is_err());
    let e = Config::parse("[session]\nmax_connections = 4\nmax_connections_per_source = 5")
        .unwrap()
        .resolve(host("h"))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("give a number from 1 to session.max_connections (4)"),
        "{e}"
    );
    assert!(Config::parse("[[share]]\nname = \"x\"\nsize = 1").is_err());
}

#[test]
fn user_and_metrics() {
    let s = Config::default().resolve(host("h")).unwrap();
    assert_eq!(s.user.as_deref(), Some(DEFAULT_USER));
    assert_eq!(s.metrics_listen, None);
    let s = Config::parse("user = \"daemon\"\n[metrics]\nlisten = \"127.0.0.1:9137\"")
        .unwrap()
        .resolve(host("h"))
        .unwrap();
    assert_eq!(s.user.as_deref(), Some("daemon"));
    assert_eq!(s.metrics_listen, Some("127.0.0.1:9137".parse().unwrap()));
    let s = Config::parse("drop_privileges = false\nuser = \"\"")
        .unwrap()
        .resolve(host("h"))
        .unwrap();
    assert_eq!(s.user, None, "disabled: no user needed");
    assert_eq!(s.control_group, None, "root's group by default");
    let s = Config::parse("control_group = \"nbt\"")
        .unwrap()
        .resolve(host("h"))
        .unwrap();
    assert_eq!(s.control_group.as_deref(), Some("nbt"));
    for (text, key) in [
        ("control_group = \"a:b\"", "control_group = \"a:b\""),
        ("user = \"\"", "user = \"\""),
        ("user = \"a/b\"", "user = \"a/b\""),
        ("[metrics]\nlisten = \"localhost\"", "metrics.listen"),
    ] {
        let e = Config::parse(text).unwrap().resolve(host("h")).unwrap_err();
        assert!(e.to_string().starts_with(key), "{text}: {e}");
    }
}

#[test]
fn defaults_need_no_file() {
    let s = Config::default().resolve(host("myhost\n")).unwrap();
    assert_eq!(s.netbios_name, NetbiosName::new("MYHOST", 0).unwrap());
    assert_eq!(s.workgroup, NetbiosName::new("WORKGROUP", 0).unwrap());
    assert!(s.aliases.is_empty());
    assert_eq!(s.filter, Filter::default());
    assert_eq!(s.ports.name, 137);
    assert_eq!(s.ports.datagram, 138);
    assert_eq!(s.ports.session, 139);
    assert_eq!(s.rescan_interval, Some(Duration::from_secs(30)));
    assert_eq!(s.state_dir, Path::new("/var/lib/nbtd"));
    assert_eq!(s.control_socket, Path::new("/run/nbtd/control.sock"));
    assert!(!s.answer_remote_subnets);
    assert!(s.node_status_mac);
    assert_eq!(s.log_level, "info");
    let b = &s.browser;
    assert_eq!(b.os_level, 20);
    assert!(!b.preferred_master);
    assert!(b.local_master);
    assert_eq!(b.comment, format!("nbtd {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        (
            b.max_servers_per_workgroup,
            b.max_workgroups,
            b.max_servers_total
        ),
        (2048, 256, 16384)
    );
    assert_eq!(b.master_probe_interval_ms, 3000);
    assert!(!b.honour_reset_state);
    assert_eq!(s.effective.netbios_name.as_deref(), Some("MYHOST"));
    // An empty file is the defaults.
    assert_eq!(Config::parse("").unwrap(), Config::default());
}

#[test]
fn hostname_becomes_netbios_name() {
    assert_eq!(netbios_name_from_hostname("myhost\n"), "MYHOST");
    assert_eq!(netbios_name_from_hostname("files.example.com"), "FILES");
    assert_eq!(
        netbios_name_from_hostname("a-very-long-host-name-indeed"),
        "A-VERY-LONG-HOS"
    );
    assert_eq!(netbios_name_from_hostname(""), "");
    // A host name that makes no valid NetBIOS name says what to set.
    let e = Config::default().resolve(host("\n")).unwrap_err();
    assert!(e.to_string().contains("set netbios_name"), "{e}");
    let e = Config::default()
        .resolve(|| Err(std::io::Error::other("gone")))
        .unwrap_err();
    assert!(e.to_string().contains(HOSTNAME_PATH), "{e}");
    // A configured name does not read the host name.
    let c = Config {
        netbios_name: Some("alpha".into()),
        ..Config::default()
    };
    let s = c.resolve(|| panic!("not read")).unwrap();
    assert_eq!(s.netbios_name, NetbiosName::new("ALPHA", 0).unwrap());
}

#[test]
fn full_file_parses() {
    let c = Config::parse(
        r#"
        netbios_name = "alpha"
        workgroup = "LABWG"
        aliases = ["files", "media"]
        state_dir = "/tmp/s"
        control_socket = "/tmp/c.sock"
        answer_remote_subnets = true
        node_status_mac = false
        log_level = "debug"
        [interfaces]
        allow = ["eth*", "lo"]
        deny = ["eth9"]
        rescan_interval_secs = 0
        [ports]
        name = 10137
        datagram = 10138
        session = 10139
        [browser]
        os_level = 65
        preferred_master = true
        local_master = false
        comment = "Files on the first floor"
        max_servers_per_workgroup = 100
        max_workgroups = 10
        max_servers_total = 500
        max_servers_per_source = 3
        max_workgroups_per_source = 2
        backup_list_rate_per_source = 7
        master_probe_interval_ms = 1000
        honour_reset_state = true
        "#,
    )
    .unwrap();
    let s = c.resolve(host("ignored")).unwrap();
    assert_eq!(
        s.browser,
        BrowserSection {
            os_level: 65,
            preferred_master: true,
            local_master: false,
            comment: "Files on the first floor".into(),
            max_servers_per_workgroup: 100,
            max_workgroups: 10,
            max_servers_total: 500,
            max_servers_per_source: 3,
            max_workgroups_per_source: 2,
            backup_list_rate_per_source: 7,
            master_probe_interval_ms: 1000,
            honour_reset_state: true,
            remote_announce: Vec::new(),
        }
    );
    assert_eq!(s.aliases.len(), 2);
    assert_eq!(s.filter.allow, ["eth*", "lo"]);
    assert_eq!(s.filter.deny, ["eth9"]);
    assert_eq!(s.rescan_interval, None);
    assert_eq!(s.ports.name, 10137);
    assert!(s.answer_remote_subnets);
    assert!(!s.node_status_mac);
    // The effective configuration prints as TOML that reads back the same.
    let again = Config::parse(&s.effective.to_string()).unwrap();
    assert_eq!(again, s.effective);
}

#[test]
fn unknown_keys_and_wrong_types_are_errors() {
    let e = Config::parse("netbios_nam = \"X\"").unwrap_err();
    assert!(e.contains("unknown field `netbios_nam`"), "{e}");
    let e = Config::parse("[ports]\nnmae = 1").unwrap_err();
    assert!(e.contains("unknown field `nmae`"), "{e}");
    let e = Config::parse("[ports]\nname = 70000").unwrap_err();
    assert!(e.contains("name"), "{e}");
    let e = Config::parse("[browser]\nos_levle = 3").unwrap_err();
    assert!(e.contains("unknown field `os_levle`"), "{e}");
    let e = Config::parse("[browser]\nos_level = 300").unwrap_err();
    assert!(e.contains("os_level"), "{e}");
}

#[test]
fn flags_override_the_file() {
    let mut c = Config::parse("workgroup = \"FILEWG\"\n[interfaces]\nallow = [\"eth0\"]").unwrap();
    c.apply(&Overrides {
        netbios_name: Some("flagname".into()),
        workgroup: Some("FLAGWG".into()),
        interfaces: Some(vec!["lo".into()]),
        state_dir: Some("/tmp/st".into()),
        control_socket: Some("/tmp/ctl".into()),
        name_port: Some(20137),
        datagram_port: Some(20138),
        session_port: Some(20139),
        log_level: Some("warn".into()),
        os_level: Some(65),
        preferred_master: Some(true),
        local_master: Some(false),
        comment: Some("from the flag".into()),
        user: Some("flaguser".into()),
        drop_privileges: Some(true),
    });
    let s = c.resolve(host("h")).unwrap();
    assert_eq!(s.browser.os_level, 65);
    assert!(s.browser.preferred_master);
    assert!(!s.browser.local_master);
    assert_eq!(s.browser.comment, "from the flag");
    assert_eq!(s.netbios_name, NetbiosName::new("FLAGNAME", 0).unwrap());
    assert_eq!(s.workgroup, NetbiosName::new("FLAGWG", 0).unwrap());
    assert_eq!(s.filter.allow, ["lo"]);
    assert_eq!(s.state_dir, Path::new("/tmp/st"));
    assert_eq!(s.control_socket, Path::new("/tmp/ctl"));
    assert_eq!(
        (s.ports.name, s.ports.datagram, s.ports.session),
        (20137, 20138, 20139)
    );
    assert_eq!(s.log_level, "warn");
    assert_eq!(s.user.as_deref(), Some("flaguser"));
    // Flags not given leave the file's values.
    let mut c = Config::parse("workgroup = \"FILEWG\"").unwrap();
    c.apply(&Overrides::default());
    assert_eq!(c.workgroup, "FILEWG");
}

#[test]
fn bad_values_say_what_to_do() {
    let with = |f: &dyn Fn(&mut Config)| {
        let mut c = Config::default();
        f(&mut c);
        c.resolve(host("h")).unwrap_err().to_string()
    };
    let e = with(&|c| c.canary_interval_secs = 2);
    assert!(
        e.contains("give 0 to turn the poisoner detector off"),
        "{e}"
    );
    let e = with(&|c| c.netbios_name = Some("THIS-NAME-IS-TOO-LONG".into()));
    assert!(e.contains("at most 15"), "{e}");
    let e = with(&|c| c.workgroup = "BAD*WG".into());
    assert!(
        e.contains("workgroup") && e.contains("'*' is not allowed"),
        "{e}"
    );
    let e = with(&|c| c.aliases = vec!["".into()]);
    assert!(e.contains("aliases") && e.contains("empty"), "{e}");
    let e = with(&|c| c.netbios_name = Some("caf\u{e9}".into()));
    assert!(e.contains("printable ASCII"), "{e}");
    let e = with(&|c| c.ports.name = 0);
    assert!(e.contains("ports.name = 0"), "{e}");
    let e = with(&|c| c.ports.datagram = 137);
    assert!(e.contains("their own UDP ports"), "{e}");
    let e = with(&|c| c.interfaces.allow = vec!["eth0 eth1".into()]);
    assert!(e.contains("interfaces.allow"), "{e}");
    let e = with(&|c| {
        c.interfaces.allow = vec!["eth0".into()];
        c.interfaces.deny = vec!["eth0".into()];
    });
    assert!(e.contains("allow list too"), "{e}");
    let e = with(&|c| c.control_socket = PathBuf::from("/x".repeat(60)));
    assert!(e.contains("107 bytes"), "{e}");
    let e = with(&|c| c.log_level = "loud=[".into());
    assert!(e.contains("log_level"), "{e}");
    let e = with(&|c| c.browser.comment = "x".repeat(49));
    assert!(
        e.contains("browser.comment") && e.contains("at most 48"),
        "{e}"
    );
    let e = with(&|c| c.browser.comment = "tab\there".into());
    assert!(e.contains("printable ASCII"), "{e}");
    let e = with(&|c| c.browser.max_workgroups = 0);
    assert!(e.contains("browser.max_workgroups = 0"), "{e}");
    let e = with(&|c| c.browser.max_servers_per_workgroup = 20_000);
    assert!(e.contains("more than max_servers_total"), "{e}");
    let e = with(&|c| c.browser.master_probe_interval_ms = 10);
    assert!(e.contains("master_probe_interval_ms = 10"), "{e}");
}

#[test]
fn remote_announce_takes_addresses_with_or_without_a_workgroup() {
    let c = Config::parse(
        "workgroup = \"HOME\"\n[browser]\n\
         remote_announce = [\"192.0.2.255\", \" 198.51.100.10/office \"]\n",
    )
    .unwrap();
    let s = c.resolve(host("h")).unwrap();
    let t = remote_announce_targets(&s.browser, s.workgroup).unwrap();
    let home = NetbiosName::new("HOME", 0).unwrap();
    let office = NetbiosName::new("OFFICE", 0).unwrap();
    assert_eq!(
        t.iter().map(|t| (t.addr, t.workgroup)).collect::<Vec<_>>(),
        [
            (std::net::Ipv4Addr::new(192, 0, 2, 255), home),
            (std::net::Ipv4Addr::new(198, 51, 100, 10), office)
        ]
    );
    assert!(
        remote_announce_targets(&BrowserSection::default(), home)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn remote_announce_mistakes_say_what_to_give() {
    let with = |entries: &[&str]| {
        let mut c = Config::default();
        c.browser.remote_announce = entries.iter().map(|e| e.to_string()).collect();
        c.resolve(host("h")).unwrap_err().to_string()
    };
    let e = with(&["office-nas"]);
    assert!(
        e.contains("browser.remote_announce = \"office-nas\"") && e.contains("IPv4 address"),
        "{e}"
    );
    let e = with(&["255.255.255.255"]);
    assert!(e.contains("subnet's broadcast address"), "{e}");
    let e = with(&["0.0.0.0"]);
    assert!(e.contains("reaches no browser"), "{e}");
    let e = with(&["224.0.0.1"]);
    assert!(e.contains("reaches no browser"), "{e}");
    let e = with(&["192.0.2.9/BAD*WG"]);
    assert!(e.contains("remote_announce") && e.contains("'*'"), "{e}");
    let e = with(&["192.0.2.9/THIS-NAME-IS-TOO-LONG"]);
    assert!(e.contains("at most 15"), "{e}");
    let e = with(&["192.0.2.9", "192.0.2.9/WORKGROUP"]);
    assert!(e.contains("listed twice"), "{e}");
    let many: Vec<String> = (0..65).map(|i| format!("192.0.2.{i}")).collect();
    let e = with(&many.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("at most 64"), "{e}");
}

#[test]
fn wins_server_takes_unicast_addresses_in_order() {
    let s = Config::default().resolve(host("h")).unwrap();
    assert!(s.wins_servers.is_empty(), "none by default");
    let s = Config::parse("wins_server = \" 198.51.100.2 \"")
        .unwrap()
        .resolve(host("h"))
        .unwrap();
    assert_eq!(s.wins_servers, [Ipv4Addr::new(198, 51, 100, 2)]);
    // Several, as Samba writes them, in order.
    let s = Config::parse("wins_server = \"198.51.100.2 198.51.100.3,198.51.100.1\"")
        .unwrap()
        .resolve(host("h"))
        .unwrap();
    assert_eq!(
        s.wins_servers,
        [
            Ipv4Addr::new(198, 51, 100, 2),
            Ipv4Addr::new(198, 51, 100, 3),
            Ipv4Addr::new(198, 51, 100, 1)
        ]
    );
    let with = |value: &str| {
        let c = Config {
            wins_server: value.to_owned(),
            ..Config::default()
        };
        c.resolve(host("h")).unwrap_err().to_string()
    };
    let e = with("wins.example");
    assert!(
        e.starts_with("wins_server = \"wins.example\"") && e.contains("IPv4 address"),
        "{e}"
    );
    for bad in ["0.0.0.0", "255.255.255.255", "198.51.100.2 224.0.0.1"] {
        let e = with(bad);
        assert!(e.contains("not a server's address"), "{bad}: {e}");
    }
    let e = with("198.51.100.2 198.51.100.2");
    assert!(e.contains("given twice"), "{e}");
    let many: Vec<String> = (1..=9).map(|i| format!("198.51.100.{i}")).collect();
    let e = with(&many.join(" "));
    assert!(e.contains("at most 8"), "{e}");
}

#[test]
fn a_log_level_is_a_level_and_warning_means_warn() {
    for (given, read) in [
        ("info", "info"),
        ("warning", "warn"),
        ("WARN", "WARN"),
        ("off", "off"),
        ("info,nbtd=debug", "info,nbtd=debug"),
        ("info, nbtd=warning", "info,nbtd=warn"),
        ("nbtd::daemon=trace", "nbtd::daemon=trace"),
        ("info,[session{peer}]=debug", "info,[session{peer}]=debug"),
    ] {
        assert_eq!(log_directive(given).as_deref(), Ok(read), "{given}");
    }
    // A bare word the filter parser would take for a target (turning all other logging off).
    for bad in [
        "verbose",
        "notice",
        "warnings",
        "info,loud",
        "nbtd=notice",
        "nbtd=",
        "",
    ] {
        let e = log_directive(bad).unwrap_err();
        assert!(e.contains(LOG_LEVELS), "{bad}: {e}");
    }
    let c = Config {
        log_level: "notice".into(),
        ..Config::default()
    };
    let e = c.resolve(host("h")).unwrap_err().to_string();
    assert!(
        e.contains("log_level = \"notice\"") && e.contains("\"notice\" is not a level"),
        "{e}"
    );
    assert!(
        e.contains("warn (or warning)") && e.contains("trace"),
        "{e}"
    );
    let c = Config {
        log_level: "info,nbtd=warning".into(),
        ..Config::default()
    };
    assert_eq!(c.resolve(host("h")).unwrap().log_level, "info,nbtd=warn");
}
