//! The workgroup views: type words, the machines from a browse list or from node status, and
//! the order browsers are asked in.

use super::*;
use crate::common::NameEntry;

#[test]
fn type_words() {
    let t = ServerType::WORKSTATION | ServerType::SERVER | ServerType::MASTER_BROWSER;
    assert_eq!(describe_type(t), "server, master browser");
    assert_eq!(describe_type(ServerType::WORKSTATION), "workstation");
    assert_eq!(
        describe_type(ServerType::WORKSTATION | ServerType::POTENTIAL_BROWSER),
        "workstation, potential browser"
    );
    assert_eq!(describe_type(ServerType::empty()), "unknown");
}

fn entry(name: &str, suffix: u8, group: bool) -> NameEntry {
    NameEntry {
        name: name.into(),
        suffix,
        netbios_name: format!("{name}<{suffix:02x}>"),
        group,
        node_type: "B",
        flags: vec!["ACTIVE"],
    }
}

fn host(name: &str, last: u8) -> HostLine {
    HostLine {
        address: Ipv4Addr::new(198, 18, 0, last),
        name: Some(name.into()),
        workgroup: Some("LABWG".into()),
        mac: "00:00:00:00:00:00".into(),
        names: Vec::new(),
    }
}

#[test]
fn machines_from_the_browse_list() {
    let hosts = [host("ALPHA", 1), host("BRAVO", 2)];
    let e = ServerInfo1 {
        name: ServerName::from_bytes(b"alpha").unwrap(),
        version_major: 4,
        version_minor: 9,
        server_type: ServerType::from_bits_retain(0x0084_9a03),
        comment: b"caf\xe9".to_vec(),
    };
    let m = machine_from_entry(&e, &hosts);
    assert_eq!(m.address, Some(Ipv4Addr::new(198, 18, 0, 1)), "by name");
    assert_eq!(m.kind, "server, master browser");
    assert_eq!(m.comment.as_deref(), Some("café"));
    assert_eq!(m.server_type, Some(0x0084_9a03));
    let unseen = ServerInfo1 {
        name: ServerName::from_bytes(b"ZULU").unwrap(),
        server_type: ServerType::WORKSTATION | ServerType::BACKUP_BROWSER,
        ..e
    };
    let m = machine_from_entry(&unseen, &hosts);
    assert_eq!(m.address, None);
    assert_eq!(m.kind, "workstation, backup browser");
}

#[test]
fn backups_are_asked_before_the_master() {
    let hosts = [host("ALPHA", 1), host("BRAVO", 2), host("CHARLIE", 3)];
    let master = MasterLine {
        name: Some("ALPHA".into()),
        address: Ipv4Addr::new(198, 18, 0, 1),
    };
    let backups = ["alpha".to_owned(), "CHARLIE".into(), "NOWHERE".into()];
    let order: Vec<Ipv4Addr> = browsers_to_ask(Some(&master), &backups, &hosts)
        .iter()
        .map(|b| b.address)
        .collect();
    assert_eq!(
        order,
        [Ipv4Addr::new(198, 18, 0, 3), Ipv4Addr::new(198, 18, 0, 1)],
        "the backup with an address, then the master; the master once"
    );
    assert!(browsers_to_ask(None, &[], &hosts).is_empty());
}

#[test]
fn machines_from_node_status() {
    let h = HostLine {
        address: Ipv4Addr::new(198, 18, 0, 1),
        name: Some("ALPHA".into()),
        workgroup: Some("LABWG".into()),
        mac: "00:00:00:00:00:00".into(),
        names: vec![
            entry("ALPHA", 0x00, false),
            entry("ALPHA", 0x20, false),
            entry("LABWG", 0x00, true),
            entry("LABWG", 0x1D, false),
        ],
    };
    let m = machine_from_status(&h, "labwg").unwrap();
    assert_eq!(m.kind, "server, master browser");
    assert_eq!(m.address, Some(Ipv4Addr::new(198, 18, 0, 1)));
    let table = machines_table(&[m]);
    assert_eq!(table[0], "NAME   TYPE                    COMMENT  ADDRESS");
    assert_eq!(
        table[1],
        "ALPHA  server, master browser  -        198.18.0.1"
    );
}
