//! nbtd.toml(5), from the annotated example `contrib/nbtd.toml`, so that the file and the page
//! cannot drift apart: a key added to the example appears in the page.
//!
//! The example begins with its title, `# nbtd.toml: what it is`, which makes the NAME
//! section. Then it is read paragraph by paragraph (separated by blank lines):
//! - `# text` is prose, and `` `code` `` in it is set in bold;
//! - `#key = value` (no space after `#`) is a key with its default or an example value;
//! - `[table]`, `[[table]]` or `#[[table]]` opens a table, and must begin its paragraph.
//!
//! Before the first key or table, paragraphs make the DESCRIPTION. After, a paragraph of prose
//! alone introduces its table, and a paragraph of prose then keys documents those keys. A key
//! without prose, or prose after a key in one paragraph, is an error, so that every key is
//! described.

use roff::{Inline, Roff, bold, roman};

use super::man::{MANUAL, NO_DATE, source};

/// One line of the example, classified.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    /// A comment line of prose (without `# `); empty for a lone `#`.
    Prose(&'a str),
    /// A key line (commented out or not), e.g. `os_level = 20`.
    Key(&'a str),
    /// A table header such as `[browser]` or `[[share]]`.
    Table(&'a str),
}

fn classify(line: &str) -> Result<Line<'_>, String> {
    let (commented, rest) = match line.strip_prefix('#') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    if commented {
        if rest.is_empty() {
            return Ok(Line::Prose(""));
        }
        if let Some(text) = rest.strip_prefix(' ') {
            return Ok(Line::Prose(text));
        }
    }
    if rest.starts_with('[') && rest.ends_with(']') {
        return Ok(Line::Table(rest));
    }
    if rest.starts_with(|c: char| c.is_ascii_lowercase()) && rest.contains(" = ") {
        return Ok(Line::Key(rest));
    }
    Err(format!(
        "{line:?} is neither prose (\"# text\"), a key (\"#key = value\") nor a table"
    ))
}

/// Text with `` `code` `` spans set in bold.
fn inline(text: &str) -> Vec<Inline> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| if i % 2 == 1 { bold(part) } else { roman(part) })
        .collect()
}

/// Prose lines as roff text; a lone `#` starts a new paragraph with `break_macro`.
fn prose(r: &mut Roff, lines: &[&str], break_macro: &str) {
    for line in lines {
        if line.is_empty() {
            r.control(break_macro, []);
        } else {
            r.text(inline(line));
        }
    }
}

/// The page for the example configuration `example`.
pub fn render(example: &str) -> Result<String, String> {
    let mut r = Roff::new();
    r.control("TH", ["NBTD.TOML", "5", NO_DATE, &source(), MANUAL]);
    let mut in_keys = false;
    let mut described_keys = 0;
    let mut paragraphs = Vec::new();
    let mut current = Vec::new();
    for (n, line) in example.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        current.push((
            n + 1,
            classify(line).map_err(|e| format!("line {}: {e}", n + 1))?,
        ));
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }

    // The title line, "# nbtd.toml: what it is", names the page.
    let title = match paragraphs.first().map(Vec::as_slice) {
        Some([(_, Line::Prose(t)), ..]) => t.split_once(": ").map(|(_, what)| what),
        _ => None,
    }
    .ok_or("line 1: the file must begin with its title, \"# nbtd.toml: what it is\"")?;
    r.control("SH", ["NAME"]);
    r.text([roman(format!(
        "nbtd.toml - {}",
        title.trim_end_matches('.')
    ))]);
    r.control("SH", ["SYNOPSIS"]);
    r.text([bold("/etc/nbtd/nbtd.toml")]);
    r.control("SH", ["DESCRIPTION"]);
    let mut first_paragraph = &paragraphs[0][1..];
    while let [(_, Line::Prose("")), after @ ..] = first_paragraph {
        first_paragraph = after;
    }
    let rest = std::iter::once(first_paragraph).chain(paragraphs[1..].iter().map(Vec::as_slice));

    for para in rest.filter(|p| !p.is_empty()) {
        let mut lines = para;
        if let Some((n, Line::Table(header))) = lines.first() {
            if !in_keys {
                r.control("SH", ["KEYS"]);
                in_keys = true;
            }
            r.control("SS", [*header]);
            lines = &lines[1..];
            if lines.is_empty() {
                return Err(format!("line {n}: the table {header} has no description"));
            }
        }
        let text: Vec<&str> = lines
            .iter()
            .take_while(|(_, l)| matches!(l, Line::Prose(_)))
            .map(|(_, l)| match l {
                Line::Prose(t) => *t,
                _ => unreachable!(),
            })
            .collect();
        let rest = &lines[text.len()..];
        let mut keys = Vec::new();
        for (n, l) in rest {
            match l {
                Line::Key(k) => keys.push(*k),
                Line::Prose(_) => {
                    return Err(format!(
                        "line {n}: prose after a key; put a blank line before it, and the \
                         prose above the keys it describes"
                    ));
                }
                Line::Table(t) => {
                    return Err(format!(
                        "line {n}: the table {t} must begin its paragraph (a blank line before)"
                    ));
                }
            }
        }
        if keys.is_empty() {
            r.control("PP", []);
            prose(&mut r, &text, "PP");
            continue;
        }
        if !in_keys {
            r.control("SH", ["KEYS"]);
            r.control("SS", ["Top level"]);
            in_keys = true;
        }
        if text.is_empty() {
            return Err(format!(
                "line {}: {} has no description; write one above it",
                rest[0].0, keys[0]
            ));
        }
        for (i, key) in keys.iter().enumerate() {
            r.control(if i == 0 { "TP" } else { "TQ" }, []);
            let (name, value) = key.split_once(" = ").expect("classified as a key");
            r.text([bold(name), roman(format!(" = {value}"))]);
        }
        prose(&mut r, &text, "IP");
        described_keys += keys.len();
    }
    if described_keys == 0 {
        return Err("no key is documented".into());
    }

    r.control("SH", ["EXAMPLE"]);
    r.text([roman(
        "A NAS named NAS in workgroup HOME that wins browser elections and lists one share:",
    )]);
    r.control("PP", []);
    r.control("nf", []);
    r.control("RS", ["4"]);
    for line in EXAMPLE.lines() {
        r.text([roman(line)]);
    }
    r.control("RE", []);
    r.control("fi", []);

    r.control("SH", ["SEE ALSO"]);
    r.text([
        bold("nbtd"),
        roman("(8), "),
        bold("nbt"),
        roman("(1); the annotated example this page is made from: contrib/nbtd.toml"),
    ]);
    Ok(r.render())
}

/// The page's example; the generator checks that nbtd accepts it.
const EXAMPLE: &str = r#"netbios_name = "NAS"
workgroup = "HOME"

[interfaces]
allow = ["eth0"]

[browser]
os_level = 65

[[share]]
name = "media"
comment = "films and music""#;

#[test]
fn the_example_on_the_page_is_a_valid_configuration() {
    let config = nbtd::config::Config::parse(EXAMPLE).unwrap();
    config.resolve(|| Ok("host".into())).unwrap();
}

#[test]
fn every_key_needs_prose_and_tables_begin_paragraphs() {
    assert!(render("#os_level = 20\n").unwrap_err().contains("title"));
    assert!(
        render("# t: T\n\n#os_level = 20\n")
            .unwrap_err()
            .contains("no description")
    );
    assert!(
        render("# t: T\n# Doc.\n#a = 1\n# more\n")
            .unwrap_err()
            .contains("prose after a key")
    );
    assert!(
        render("# t: T\n# Doc.\n[browser]\n# x\n#a = 1\n")
            .unwrap_err()
            .contains("must begin its paragraph")
    );
    assert!(render("#Nonsense\n").unwrap_err().contains("line 1"));
    let page = render("# t: the T.\n# Intro.\n\n[ports]\n# Ports.\n\n# Name `udp`.\n#name = 137\n")
        .unwrap();
    assert!(page.contains(".SH NAME\nnbtd.toml \\- the T\n"), "{page}");
    assert!(page.contains(".SH DESCRIPTION\n.PP\nIntro.\n"), "{page}");
    assert!(page.contains(".SS [ports]\n"), "{page}");
    assert!(
        page.contains(".TP\n\\fBname\\fR = 137\nName \\fBudp\\fR"),
        "{page}"
    );
}
