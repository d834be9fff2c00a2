//! Shell completions for bash, zsh and fish, from the command lines.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Generated, nbt_cli, nbtd_cli};

/// Where each shell's script goes, named as each shell looks it up once installed.
fn file_name(shell: Shell, bin: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{bin}"),
        Shell::Fish => format!("{bin}.fish"),
        _ => format!("{bin}.bash"),
    }
}

/// Every completion script.
pub fn scripts() -> Vec<Generated> {
    let mut out = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        for (bin, mut cmd) in [
            ("nbtd", nbtd_cli::Cli::command()),
            ("nbt", nbt_cli::Cli::command()),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, bin, &mut buf);
            out.push(Generated {
                path: format!("contrib/completions/{}", file_name(shell, bin)),
                text: String::from_utf8(buf).expect("completion scripts are UTF-8"),
            });
        }
    }
    out
}
