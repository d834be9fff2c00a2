//! What an admin installs from `man/` and `contrib/` works with the tools that read it: the
//! manual pages render without warnings, systemd accepts the unit, nft the firewall rules,
//! bash, fish and zsh complete with the completions, and the unit and the container recipe
//! start nbtd with flags it accepts and the paths it uses by default.
//!
//! Tests that need a tool say why they were skipped without it (and fail under `CI=true`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::netns::find_program;
use common::skip;

const NBTD: &str = env!("CARGO_BIN_EXE_nbtd");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("contrib-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `nbtd ARGS --check-config` and fails with its message when it refuses them.
fn assert_nbtd_accepts(what: &str, args: &[String]) {
    let out = run(Command::new(NBTD).args(args).arg("--check-config"));
    assert!(
        out.status.success(),
        "{what}: nbtd {args:?} --check-config failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_manual_page_renders_without_warnings() {
    let test = "every_manual_page_renders_without_warnings";
    let (Some(groff), Some(man)) = (find_program("groff"), find_program("man")) else {
        skip(
            test,
            "needs groff and man (apt-get install -y groff-base man-db)",
        );
        return;
    };
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| ["1", "5", "8"].contains(&e.to_str().unwrap()))
        })
        .collect();
    pages.sort();
    let names: BTreeSet<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["nbtd.8", "nbt.1", "nbtd.toml.5", "nbt-lookup.1"] {
        assert!(
            names.contains(expected),
            "man/{expected} is missing: {names:?}"
        );
    }
    for page in &pages {
        // -ww: every warning groff knows; -z: check only, no output.
        let out = run(Command::new(&groff)
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(page));
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "groff finds fault with {}:\n{warnings}",
            page.display()
        );
        let out = run(Command::new(&man)
            .arg("-l")
            .arg(page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80"));
        let text = without_overstrike(&String::from_utf8_lossy(&out.stdout));
        assert!(
            out.status.success(),
            "man -l {} failed: {}",
            page.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"] {
            assert!(
                text.lines().any(|l| l == section),
                "man -l {} shows no {section} section:\n{text}",
                page.display()
            );
        }
    }
}

/// Text as a terminal shows it: man marks bold and underline by overstriking (`N\x08N`).
fn without_overstrike(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\x08' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

/// The unit's `Key=value` lines, in order.
fn unit_values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// Where the unit expects the binary.
const UNIT_BINARY: &str = "/usr/local/sbin/nbtd";

#[test]
fn systemd_accepts_the_unit() {
    let test = "systemd_accepts_the_unit";
    let Some(analyze) = find_program("systemd-analyze") else {
        skip(test, "needs systemd-analyze (apt-get install -y systemd)");
        return;
    };
    let unit = read("contrib/systemd/nbtd.service");
    assert!(
        unit.contains(&format!("ExecStart={UNIT_BINARY} ")),
        "{unit}"
    );
    // systemd-analyze checks that ExecStart's program exists: point it at the one just built.
    let dir = Scratch::new("unit");
    let copy = dir.0.join("nbtd.service");
    std::fs::write(&copy, unit.replace(UNIT_BINARY, NBTD)).unwrap();
    let out = run(Command::new(analyze)
        .args(["verify", "--man=no", "--recursive-errors=no"])
        .arg(&copy));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It also reports on units the system has installed; only ours matter here.
    let ours: Vec<&str> = stderr.lines().filter(|l| l.contains("nbtd")).collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify rejects contrib/systemd/nbtd.service ({}):\n{stderr}",
        out.status
    );
}

#[test]
fn the_unit_conflicts_with_nmbd_under_every_distribution_s_name() {
    let unit = read("contrib/systemd/nbtd.service");
    let conflicts: Vec<&str> = unit_values(&unit, "Conflicts")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .collect();
    // Debian and Ubuntu, Fedora, RHEL and SUSE, and a Samba AD DC (which runs its own NBT).
    for u in ["nmbd.service", "nmb.service", "samba-ad-dc.service"] {
        assert!(
            conflicts.contains(&u),
            "Conflicts= lacks {u}: {conflicts:?}"
        );
    }
}

#[test]
fn the_unit_starts_nbtd_with_flags_it_accepts_and_its_default_paths() {
    let unit = read("contrib/systemd/nbtd.service");
    let exec = unit_values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1, "one ExecStart: {exec:?}");
    let mut words = exec[0].split_whitespace();
    assert_eq!(words.next(), Some(UNIT_BINARY));
    // The flags, with the installed configuration's path replaced by the example's.
    let args: Vec<String> = words
        .map(|w| match w {
            "/etc/nbtd/nbtd.toml" => repo().join("contrib/nbtd.toml").display().to_string(),
            w => w.to_owned(),
        })
        .collect();
    assert_nbtd_accepts("contrib/systemd/nbtd.service's ExecStart", &args);

    // StateDirectory= and RuntimeDirectory= make the directories nbtd uses by default.
    let state = unit_values(&unit, "StateDirectory");
    assert_eq!(
        state
            .iter()
            .map(|d| format!("/var/lib/{d}"))
            .collect::<Vec<_>>(),
        [nbtd::config::DEFAULT_STATE_DIR]
    );
    let runtime = unit_values(&unit, "RuntimeDirectory");
    let socket_dir = Path::new(nbtd::config::DEFAULT_CONTROL_SOCKET)
        .parent()
        .unwrap();
    assert_eq!(
        runtime
            .iter()
            .map(|d| format!("/run/{d}"))
            .collect::<Vec<_>>(),
        [socket_dir.display().to_string()]
    );
    // Restarting cannot mend a bad configuration or command line.
    let no_restart: Vec<&str> = unit_values(&unit, "RestartPreventExitStatus")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .collect();
    for code in [nbtd::exit::CONFIG, nbtd::exit::USAGE] {
        assert!(
            no_restart.contains(&code.to_string().as_str()),
            "{no_restart:?}"
        );
    }
    // Binding ports below 1024 is the only privilege.
    assert_eq!(
        unit_values(&unit, "CapabilityBoundingSet"),
        ["CAP_NET_BIND_SERVICE"]
    );
    assert_eq!(
        unit_values(&unit, "AmbientCapabilities"),
        ["CAP_NET_BIND_SERVICE"]
    );
}

#[test]
fn the_container_recipe_copies_what_exists_and_starts_nbtd_with_flags_it_accepts() {
    let recipe = read("contrib/container/Containerfile");
    // COPY SRC... DEST from the build context (not --from=STAGE): each source exists, and
    // the container's paths map back to the repository's.
    let mut context_files = Vec::new();
    for line in recipe.lines() {
        let Some(rest) = line.strip_prefix("COPY ") else {
            continue;
        };
        if rest.starts_with("--from") {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let (dest, sources) = words.split_last().unwrap();
        for src in sources {
            assert!(
                repo().join(src).exists(),
                "contrib/container/Containerfile copies {src}, which the repository lacks"
            );
            context_files.push((src.to_string(), dest.to_string()));
        }
    }
    let json_words = |directive: &str| -> Vec<String> {
        let line = recipe
            .lines()
            .find_map(|l| l.strip_prefix(directive))
            .unwrap_or_else(|| panic!("no {directive} in the Containerfile"));
        let list = line.trim().trim_start_matches('[').trim_end_matches(']');
        list.split(',')
            .map(|w| w.trim().trim_matches('"').to_owned())
            .collect()
    };
    let entrypoint = json_words("ENTRYPOINT ");
    assert_eq!(entrypoint, [UNIT_BINARY], "the image runs nbtd");
    let args: Vec<String> = json_words("CMD ")
        .into_iter()
        .map(|w| {
            context_files
                .iter()
                .find(|(_, dest)| *dest == w)
                .map_or(w.clone(), |(src, _)| repo().join(src).display().to_string())
        })
        .collect();
    assert_nbtd_accepts("contrib/container/Containerfile's CMD", &args);
}

#[test]
fn the_nftables_rules_load() {
    let test = "the_nftables_rules_load";
    let Some(nft) = find_program("nft") else {
        skip(test, "needs nft (apt-get install -y nftables)");
        return;
    };
    let rules = read("contrib/firewall/nbtd.nft");
    for port in ["udp dport 137 ", "udp dport 138 ", "tcp dport 139 "] {
        assert!(
            rules.contains(port),
            "contrib/firewall/nbtd.nft lacks {port}"
        );
    }
    // The file is included in an input chain, as its header shows; so is the optional rule.
    let dir = Scratch::new("nft");
    let optional = dir.0.join("all-rules.nft");
    std::fs::write(&optional, rules.replace("\n#iifname", "\niifname")).unwrap();
    for included in [repo().join("contrib/firewall/nbtd.nft"), optional] {
        let wrapper = dir.0.join("wrapper.nft");
        std::fs::write(
            &wrapper,
            format!(
                "table inet nbtd_check {{\n  chain input {{\n    type filter hook input \
                 priority filter; policy drop;\n    include \"{}\"\n  }}\n}}\n",
                included.display()
            ),
        )
        .unwrap();
        // -c only checks; in a network namespace of its own it could not touch this host's
        // rules even if it did more.
        let out = run(Command::new("unshare")
            .args(["--net", "--"])
            .arg(&nft)
            .args(["-c", "-f"])
            .arg(&wrapper));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && stderr.contains("unshare") {
            skip(
                test,
                &format!("needs root to make a network namespace: {stderr}"),
            );
            return;
        }
        assert!(
            out.status.success(),
            "nft -c rejects {}:\n{stderr}",
            included.display()
        );
    }
}

#[test]
fn the_firewalld_service_opens_udp_137_and_138_and_tcp_139() {
    let test = "the_firewalld_service_opens_udp_137_and_138_and_tcp_139";
    let Some(python) = find_program("python3") else {
        skip(
            test,
            "needs python3 to read the XML (apt-get install -y python3)",
        );
        return;
    };
    let script = "import sys, xml.etree.ElementTree as ET\n\
                  root = ET.parse(sys.argv[1]).getroot()\n\
                  assert root.tag == 'service', root.tag\n\
                  for p in root.iter('port'): print(p.get('protocol') + '/' + p.get('port'))\n\
                  for h in root.iter('helper'): print('helper ' + h.get('name'))\n";
    let out = run(Command::new(python)
        .args(["-c", script])
        .arg(repo().join("contrib/firewall/nbtd.xml")));
    assert!(
        out.status.success(),
        "contrib/firewall/nbtd.xml is not a firewalld service:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let expected: BTreeSet<String> = ["udp/137", "udp/138", "tcp/139", "helper netbios-ns"]
        .map(str::to_owned)
        .into();
    assert_eq!(found, expected);
}

/// What bash's completion offers for `words`, the last being the word completed, sorted.
fn bash_completes(script: &str, function: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n{function} '{}' '{}' '{}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        repo().join(script).display(),
        quoted.join(" "),
        n - 1,
        words[0],
        words[n - 1],
        if n >= 2 { words[n - 2] } else { words[0] },
    );
    let out = run(Command::new("bash").args(["--norc", "--noprofile", "-c", &program]));
    offered(&out, &format!("bash completion of {words:?}"))
}

/// The candidates a shell printed, one a line (before a tab, where a description follows),
/// sorted; the shell must have succeeded.
fn offered(out: &Output, what: &str) -> Vec<String> {
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut offered: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let test = "bash_completes_subcommands_and_flags";
    if find_program("bash").is_none() {
        skip(test, "needs bash");
        return;
    }
    let nbt = "contrib/completions/nbt.bash";
    assert_eq!(bash_completes(nbt, "_nbt", &["nbt", "lo"]), ["lookup"]);
    assert_eq!(
        bash_completes(nbt, "_nbt", &["nbt", "s"]),
        ["scan", "shares", "status"]
    );
    assert_eq!(
        bash_completes(nbt, "_nbt", &["nbt", "lookup", "--ser"]),
        ["--server"]
    );
    assert!(
        bash_completes(nbt, "_nbt", &["nbt", "view", "--"]).contains(&"--workgroups".to_owned())
    );
    assert_eq!(
        bash_completes(
            "contrib/completions/nbtd.bash",
            "_nbtd",
            &["nbtd", "--check"]
        ),
        ["--check-config"]
    );
}

/// What fish's completion offers for the command line `line` (the last word is completed): the
/// candidates without their descriptions, sorted.
fn fish_completes(script: &str, line: &str) -> Vec<String> {
    let program = format!(
        "source '{}'; complete -C '{line}'",
        repo().join(script).display()
    );
    let out = run(Command::new("fish").args(["--no-config", "-c", &program]));
    offered(&out, &format!("fish completion of {line:?}"))
}

#[test]
fn fish_completes_subcommands_and_flags() {
    let test = "fish_completes_subcommands_and_flags";
    if find_program("fish").is_none() {
        skip(test, "needs fish");
        return;
    }
    let nbt = "contrib/completions/nbt.fish";
    assert_eq!(fish_completes(nbt, "nbt lo"), ["lookup"]);
    assert_eq!(fish_completes(nbt, "nbt s"), ["scan", "shares", "status"]);
    assert_eq!(fish_completes(nbt, "nbt lookup --ser"), ["--server"]);
    assert!(fish_completes(nbt, "nbt view --").contains(&"--workgroups".to_owned()));
    assert_eq!(
        fish_completes("contrib/completions/nbtd.fish", "nbtd --check"),
        ["--check-config"]
    );
}

/// Drives zsh's completion in an interactive zsh on a pseudo-terminal (zsh/zpty): the
/// completion functions in `$1` come first in `$fpath`, the line `$2` is typed with a TAB, and
/// `compadd` is wrapped to print every match it is given between markers. The markers are
/// written split (`"<<REA""DY>>"`): the terminal echoes every line typed, and an echoed marker
/// would end a wait before zsh has run the lines before it.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty || exit 2
dir=$1 line=$2
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT= ; fpath=('$dir' \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'zstyle ":completion:*" list-separator ""; zstyle ":completion:*:default" list-prompt ""'
zpty -w z 'bindkey "^I" complete-word'
zpty -w z 'compadd () { local -a __hits; builtin compadd -O __hits "$@"; (( $#__hits )) || return 1; print -r -n -- $'"'"'\0CAP'"'"'; print -r -l -- $__hits; print -n -- $'"'"'\0END'"'"'; builtin compadd "$@" }'
zpty -w z 'finish () { zle -I; zle -R "<<DO""NE>>"; }; zle -N finish; comppostfuncs=(finish)'
zpty -w z 'print -n -- "<<REA""DY>>"'
zpty -r z x '*<<READY>>' || exit 3
zpty -n -w z "$line"$'\t'
zpty -r z out '*<<DONE>>*' || exit 4
zpty -d z
print -r -- "$out" | tr -d '\r' | awk 'BEGIN { RS = "\0" } /^CAP/ { sub(/^CAP\n?/, ""); print }' |
  grep -v '^$' | sort -u
"#;

/// What zsh's completion offers for the command line `line`, sorted.
fn zsh_completes(scratch: &Scratch, line: &str) -> Vec<String> {
    let script = scratch.0.join("capture.zsh");
    std::fs::write(&script, ZSH_CAPTURE).unwrap();
    let dir = repo().join("contrib/completions");
    // zpty waits for its markers: a completion that never finishes is cut off here.
    let out = run(Command::new("timeout").args([
        "60".as_ref(),
        "zsh".as_ref(),
        "-f".as_ref(),
        script.as_os_str(),
        dir.as_os_str(),
        line.as_ref(),
    ]));
    offered(&out, &format!("zsh completion of {line:?}"))
}

#[test]
fn zsh_completes_subcommands_and_flags() {
    let test = "zsh_completes_subcommands_and_flags";
    if find_program("zsh").is_none() || find_program("timeout").is_none() {
        skip(test, "needs zsh and timeout");
        return;
    }
    let scratch = Scratch::new(test);
    assert_eq!(zsh_completes(&scratch, "nbt lo"), ["lookup"]);
    assert_eq!(
        zsh_completes(&scratch, "nbt s"),
        ["scan", "shares", "status"]
    );
    assert_eq!(zsh_completes(&scratch, "nbt lookup --ser"), ["--server"]);
    assert!(zsh_completes(&scratch, "nbt view --").contains(&"--workgroups".to_owned()));
    assert_eq!(zsh_completes(&scratch, "nbtd --check"), ["--check-config"]);
}

/// zsh loads both completion functions in a shell with the completion system on, and registers
/// each for its command.
#[test]
fn zsh_loads_and_registers_the_completions() {
    let test = "zsh_loads_and_registers_the_completions";
    if find_program("zsh").is_none() {
        skip(test, "needs zsh");
        return;
    }
    let dir = repo().join("contrib/completions");
    let program = format!(
        "autoload -Uz compinit && compinit -u -D && source '{0}/_nbt' && source '{0}/_nbtd' \
         && print -r -- $_comps[nbt] $_comps[nbtd] && whence -w _nbt _nbtd",
        dir.display()
    );
    let out = run(Command::new("zsh").args(["-f", "-c", &program]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "zsh could not load the completions:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["_nbt _nbtd", "_nbt: function", "_nbtd: function"]
    );
}
