//! The control protocol's JSON shapes, and what a client says when no daemon answers; and
//! the sample status other tests render.

use super::*;

pub(crate) fn sample() -> DaemonStatus {
    DaemonStatus {
        version: "0.1.0".into(),
        pid: 42,
        netbios_name: "ALPHA".into(),
        workgroup: "LABWG".into(),
        aliases: vec![],
        uptime_secs: 3725,
        interfaces: vec![InterfaceStatus {
            name: "eth0".into(),
            address: Ipv4Addr::new(198, 18, 0, 1),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(198, 18, 0, 255),
            mac: "02:00:00:00:00:01".into(),
            names: vec![
                NameStatus {
                    name: "ALPHA".into(),
                    suffix: 0x20,
                    group: false,
                    state: NameStatusState::Conflict {
                        owner: Ipv4Addr::new(198, 18, 0, 9),
                    },
                },
                NameStatus {
                    name: "LABWG".into(),
                    suffix: 0x1e,
                    group: true,
                    state: NameStatusState::Active,
                },
            ],
            browser: InterfaceBrowser {
                role: BrowserRole::Backup,
                master: Some(MasterStatus {
                    name: Some("BRAVO".into()),
                    address: Ipv4Addr::new(198, 18, 0, 2),
                }),
                servers: 3,
                workgroups: 1,
                per_workgroup: vec![WorkgroupSize {
                    workgroup: "LABWG".into(),
                    servers: 3,
                }],
                elections: vec![ElectionRecord {
                    secs_ago: 75,
                    unix_time: 1_700_000_000,
                    kind: ElectionKind::Lost,
                    detail: String::new(),
                    peer: Some("BRAVO".into()),
                    address: Some(Ipv4Addr::new(198, 18, 0, 2)),
                }],
            },
        }],
        name_service: NameServiceCounters::default(),
        datagram_service: DatagramServiceCounters {
            received: 7,
            ..DatagramServiceCounters::default()
        },
        browser: BrowserCounters {
            elections_won: 2,
            ..BrowserCounters::default()
        },
        session: None,
        driver: DriverCounters {
            send_errors: 3,
            ..DriverCounters::default()
        },
        reloads: ReloadCounters::default(),
        remote_announce: RemoteAnnounceStatus::default(),
        wins: None,
        poisoners: Vec::new(),
    }
}

/// A WINS client status with one name in each state.
pub(crate) fn sample_wins() -> WinsClientStatus {
    let name = |name: &str, suffix, group, state, next_in_secs| WinsNameStatus {
        name: name.into(),
        suffix,
        group,
        state,
        next_in_secs,
    };
    WinsClientStatus {
        server: Ipv4Addr::new(198, 19, 0, 1),
        servers: vec![Ipv4Addr::new(198, 19, 0, 1), Ipv4Addr::new(198, 19, 0, 2)],
        address: Some(Ipv4Addr::new(198, 18, 0, 1)),
        names: vec![
            name(
                "ALPHA",
                0x00,
                false,
                WinsNameState::Registered { ttl: 21_600 },
                Some(1200),
            ),
            name("ALPHA", 0x20, false, WinsNameState::Registering, Some(4)),
            name(
                "ALPHA",
                0x03,
                false,
                WinsNameState::Refused {
                    rcode: "ACT_ERR".into(),
                },
                None,
            ),
            name("LABWG", 0x1e, true, WinsNameState::NoAnswer, Some(290)),
        ],
    }
}

pub(crate) fn sample_list() -> BrowseListReply {
    BrowseListReply {
        workgroup: "OTHERWG".into(),
        our_workgroup: "LABWG".into(),
        interfaces: vec![BrowseInterface {
            interface: "eth0".into(),
            address: Ipv4Addr::new(198, 18, 0, 1),
            role: BrowserRole::NonBrowser,
            master: None,
            servers: vec![
                BrowseServer {
                    name: "CAF\\xc9".into(),
                    server_type: 0x0004_9003,
                    version: [6, 1],
                    comment: "first floor".into(),
                    address: Some(Ipv4Addr::new(198, 18, 0, 3)),
                    periodicity_secs: 720,
                    expires_in_secs: 2100,
                },
                BrowseServer {
                    name: "RESTORED".into(),
                    server_type: 1,
                    version: [4, 9],
                    comment: String::new(),
                    address: None,
                    periodicity_secs: 60,
                    expires_in_secs: 5,
                },
            ],
            workgroups: vec![BrowseWorkgroup {
                name: "LABWG".into(),
                master: "ALPHA".into(),
                address: None,
                expires_in_secs: 2000,
            }],
        }],
    }
}

#[test]
fn status_json_shape() {
    let r = Response::Status(Box::new(sample()));
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["response"], "status");
    assert_eq!(v["netbios_name"], "ALPHA");
    let n = &v["interfaces"][0]["names"][0];
    assert_eq!(n["suffix"], 32);
    assert_eq!(n["state"], "conflict");
    assert_eq!(n["owner"], "198.18.0.9");
    assert_eq!(v["interfaces"][0]["names"][1]["state"], "active");
    assert_eq!(v["driver"]["send_errors"], 3);
    assert_eq!(
        v["interfaces"][0]["browser"],
        serde_json::json!({
            "role": "backup",
            "master": {"name": "BRAVO", "address": "198.18.0.2"},
            "servers": 3,
            "workgroups": 1,
            "per_workgroup": [{"workgroup": "LABWG", "servers": 3}],
            "elections": [{
                "secs_ago": 75,
                "unix_time": 1_700_000_000u64,
                "kind": "lost",
                "peer": "BRAVO",
                "address": "198.18.0.2",
            }],
        })
    );
    assert_eq!(v["browser"]["elections_won"], 2);
    assert_eq!(v["browser"]["refused"], 0);
    assert_eq!(v["datagram_service"]["received"], 7);
    assert_eq!(v["datagram_service"]["off_subnet"], 0);
    let back: Response = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
    assert_eq!(
        serde_json::to_string(&Request::Status).unwrap(),
        r#"{"request":"status"}"#
    );
    // No remote announcements: no key at all (older clients read the same JSON).
    let v = serde_json::to_value(sample()).unwrap();
    assert!(v.get("remote_announce").is_none(), "{v}");
    let mut s = sample();
    s.remote_announce.targets.push(RemoteTarget {
        address: Ipv4Addr::new(198, 19, 1, 2),
        workgroup: "FARWG".into(),
    });
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["remote_announce"],
        serde_json::json!({"targets": [{"address": "198.19.1.2", "workgroup": "FARWG"}]})
    );
    let back: DaemonStatus = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
    // No WINS server: no key; with one, each name with its state.
    let v = serde_json::to_value(sample()).unwrap();
    assert!(v.get("wins").is_none(), "{v}");
    let mut s = sample();
    s.wins = Some(sample_wins());
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["wins"],
        serde_json::json!({
            "server": "198.19.0.1",
            "servers": ["198.19.0.1", "198.19.0.2"],
            "address": "198.18.0.1",
            "names": [
                {"name": "ALPHA", "suffix": 0, "group": false, "state": "registered",
                 "ttl": 21600, "next_in_secs": 1200},
                {"name": "ALPHA", "suffix": 32, "group": false, "state": "registering",
                 "next_in_secs": 4},
                {"name": "ALPHA", "suffix": 3, "group": false, "state": "refused",
                 "rcode": "ACT_ERR"},
                {"name": "LABWG", "suffix": 30, "group": true, "state": "no_answer",
                 "next_in_secs": 290},
            ]
        })
    );
    let back: DaemonStatus = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
    // No master known is null; a master whose name is not known has no name.
    let mut s = sample();
    s.interfaces[0].browser.master = None;
    let v = serde_json::to_value(&s).unwrap();
    assert!(v["interfaces"][0]["browser"]["master"].is_null());
    s.interfaces[0].browser.master = Some(MasterStatus {
        name: None,
        address: Ipv4Addr::new(198, 18, 0, 2),
    });
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["interfaces"][0]["browser"]["master"],
        serde_json::json!({"address": "198.18.0.2"})
    );
    for (role, text) in [
        (Role::Master, "master"),
        (Role::Backup, "backup"),
        (Role::Potential, "potential"),
        (Role::NonBrowser, "non_browser"),
    ] {
        let r = BrowserRole::from(role);
        assert_eq!(serde_json::to_value(r).unwrap(), text);
        assert_eq!(r.as_str(), text);
    }
}

#[test]
fn browse_list_json_shape() {
    let r: Request =
        serde_json::from_str(r#"{"request":"browse_list","workgroup":"labwg"}"#).unwrap();
    assert_eq!(
        r,
        Request::BrowseList {
            workgroup: Some("labwg".into())
        }
    );
    let r: Request = serde_json::from_str(r#"{"request":"browse_list"}"#).unwrap();
    assert_eq!(r, Request::BrowseList { workgroup: None });
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"request":"browse_list"}"#
    );

    let r = Response::BrowseList(Box::new(sample_list()));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "response": "browse_list",
            "workgroup": "OTHERWG",
            "our_workgroup": "LABWG",
            "interfaces": [{
                "interface": "eth0",
                "address": "198.18.0.1",
                "role": "non_browser",
                "master": null,
                "servers": [
                    {
                        "name": "CAF\\xc9",
                        "server_type": 0x0004_9003,
                        "version": [6, 1],
                        "comment": "first floor",
                        "address": "198.18.0.3",
                        "periodicity_secs": 720,
                        "expires_in_secs": 2100,
                    },
                    {
                        "name": "RESTORED",
                        "server_type": 1,
                        "version": [4, 9],
                        "comment": "",
                        "periodicity_secs": 60,
                        "expires_in_secs": 5,
                    },
                ],
                "workgroups": [{
                    "name": "LABWG",
                    "master": "ALPHA",
                    "address": null,
                    "expires_in_secs": 2000,
                }],
            }],
        })
    );
    let back: Response = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_missing_daemon_is_explained() {
    let e = query_status(Path::new("/nonexistent/nbtd.sock")).unwrap_err();
    assert!(e.to_string().contains("is nbtd running?"), "{e}");
    let e = query_browse_list(Path::new("/nonexistent/nbtd.sock"), None).unwrap_err();
    assert!(e.to_string().contains("is nbtd running?"), "{e}");
}
