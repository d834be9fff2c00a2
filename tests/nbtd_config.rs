//! `nbtd --check-config`: a good file is printed back with the defaults filled in; a mistake is
//! named, with what to do, and the status is 1.

mod nbtd_harness;

use nbtd_harness::{Scratch, run_captured};

#[test]
fn a_good_file_is_accepted_and_printed_with_flags_on_top() {
    let dir = Scratch::new("config-good");
    let file = dir.path("nbtd.toml");
    std::fs::write(
        &file,
        r#"
        # A comment.
        netbios_name = "goodname"
        workgroup = "LABWG"
        aliases = ["files"]
        [interfaces]
        allow = ["eth*"]
        deny = ["eth9"]
        [ports]
        name = 10137
        "#,
    )
    .unwrap();
    let (status, out, err) = run_captured(&[
        "--check-config",
        "--config",
        file.to_str().unwrap(),
        "--workgroup",
        "flagwg",
    ]);
    assert!(status.success(), "{status:?}\n{err}");
    assert_eq!(status.code(), Some(0));
    assert!(out.contains("the configuration is valid"), "{out}");
    assert!(out.contains("netbios_name = \"goodname\""), "{out}");
    assert!(
        out.contains("workgroup = \"flagwg\""),
        "the flag wins: {out}"
    );
    assert!(out.contains("name = 10137"), "{out}");
    assert!(out.contains("datagram = 138"), "defaults filled in: {out}");
    assert!(out.contains("rescan_interval_secs = 30"), "{out}");
}

#[test]
fn browser_flags_override_the_file() {
    let dir = Scratch::new("config-browser");
    let file = dir.path("nbtd.toml");
    std::fs::write(
        &file,
        "[browser]\nos_level = 33\ncomment = \"from the file\"\n",
    )
    .unwrap();
    let (status, out, err) = run_captured(&["--check-config", "--config", file.to_str().unwrap()]);
    assert!(status.success(), "{err}");
    assert!(out.contains("[browser]"), "{out}");
    assert!(out.contains("os_level = 33"), "{out}");
    assert!(out.contains("comment = \"from the file\""), "{out}");
    assert!(
        out.contains("max_servers_total = 16384"),
        "defaults filled in: {out}"
    );
    let (status, out, err) = run_captured(&[
        "--check-config",
        "--config",
        file.to_str().unwrap(),
        "--os-level",
        "65",
        "--preferred-master",
        "--no-local-master",
        "--comment",
        "from the flag",
    ]);
    assert!(status.success(), "{err}");
    assert!(out.contains("os_level = 65"), "{out}");
    assert!(out.contains("preferred_master = true"), "{out}");
    assert!(out.contains("local_master = false"), "{out}");
    assert!(out.contains("comment = \"from the flag\""), "{out}");
    let (status, _, err) = run_captured(&["--check-config", "--os-level", "300"]);
    assert_eq!(status.code(), Some(2), "clap refuses it: {err}");
    let long = "x".repeat(49);
    let (status, _, err) = run_captured(&["--check-config", "--comment", &long]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("browser.comment"), "{err}");
}

#[test]
fn an_unknown_key_is_refused_with_its_line_and_the_valid_keys() {
    let dir = Scratch::new("config-unknown");
    let file = dir.path("nbtd.toml");
    std::fs::write(&file, "workgroup = \"LABWG\"\ncolour = \"blue\"\n").unwrap();
    let (status, out, err) = run_captured(&["--check-config", "--config", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("unknown field `colour`"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("expected one of"), "{err}");
    assert!(
        err.contains(file.to_str().unwrap()),
        "names the file: {err}"
    );
}

#[test]
fn a_bad_name_is_refused_with_the_rule() {
    let dir = Scratch::new("config-badname");
    let file = dir.path("nbtd.toml");
    std::fs::write(&file, "netbios_name = \"FAR-TOO-LONG-A-NAME\"\n").unwrap();
    let (status, _, err) = run_captured(&["--check-config", "--config", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("netbios_name = \"FAR-TOO-LONG-A-NAME\" is not a valid NetBIOS name"),
        "{err}"
    );
    assert!(err.contains("at most 15"), "{err}");

    let (status, _, err) = run_captured(&["--check-config", "--workgroup", "WORK?GROUP"]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("workgroup = \"WORK?GROUP\""), "{err}");
    assert!(err.contains("'?' is not allowed"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let (status, _, err) = run_captured(&["--check-config", "--config", "/nonexistent/nbtd.toml"]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot read the configuration file /nonexistent/nbtd.toml"),
        "{err}"
    );
}

#[test]
fn the_example_configuration_documents_every_key_and_is_valid() {
    let example = include_str!("../contrib/nbtd.toml");
    // Every key nbtd knows appears in the example, commented out with its default.
    let every_key = nbtd::config::Config::default().to_string();
    for line in every_key.lines() {
        if let Some((key, _)) = line.split_once(" = ") {
            assert!(
                example.contains(&format!("\n#{key} = ")),
                "contrib/nbtd.toml does not document {key}"
            );
        }
    }
    // Uncommented, it is a valid configuration.
    let uncommented: String = example
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if rest.starts_with(|c: char| c.is_ascii_lowercase()) || rest.starts_with("[[") =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = nbtd::config::Config::parse(&uncommented).unwrap();
    config.resolve(|| Ok("host".into())).unwrap();
}

#[test]
fn an_unknown_log_level_is_refused_with_the_levels() {
    let dir = Scratch::new("config-loglevel");
    let file = dir.path("nbtd.toml");
    std::fs::write(&file, "log_level = \"notice\"\n").unwrap();
    let (status, _, err) = run_captured(&["--check-config", "--config", file.to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("log_level = \"notice\" is not valid"), "{err}");
    assert!(
        err.contains("error, warn (or warning), info, debug or trace"),
        "{err}"
    );
    for bad in ["verbose", "warnings", "info,nbtd=loud"] {
        let (status, _, err) = run_captured(&["--check-config", "--log-level", bad]);
        assert_eq!(status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains("is not a level"), "{bad}: {err}");
    }
    for good in ["warning", "warn", "info,nbtd=debug"] {
        let (status, _, err) = run_captured(&["--check-config", "--log-level", good]);
        assert!(status.success(), "{good}: {err}");
    }
}
