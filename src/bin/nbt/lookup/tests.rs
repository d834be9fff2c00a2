//! Lookup: names from the command line, replies classified and folded (duplicates, conflicts),
//! and the text output beside nmblookup's.

use super::*;
use nbtd::protocol::wire::ns::NodeStatus;

fn alpha() -> ScopedName {
    parse_name("ALPHA").unwrap()
}

fn pos(from: &str, via: usize, addrs: &[(&str, bool)]) -> Answer {
    Answer {
        via,
        from: format!("{from}:137").parse().unwrap(),
        result: QueryAnswer::Positive {
            ttl: 259200,
            addresses: addrs
                .iter()
                .map(|(a, g)| NbAddress::b_node(a.parse().unwrap(), *g))
                .collect(),
        },
    }
}

#[test]
fn names_from_the_command_line() {
    assert_eq!(parse_name("alpha#20").unwrap().to_string(), "ALPHA<20>");
    assert_eq!(parse_name("WG<1d>").unwrap().name.suffix(), 0x1d);
    let e = parse_name("WAYTOOLONGNETBIOSNAME").unwrap_err().to_string();
    assert!(e.contains("NAME#1d"), "{e}");
    assert!(parse_name("X#zz").is_err());
    assert!(parse_name("").is_err());
}

#[test]
fn classify_replies() {
    let q = alpha();
    let nb = vec![NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 1), false)];
    let ok = NameServicePacket::positive_query_response(7, q.clone(), 60, nb.clone());
    let bytes = ok.to_vec().unwrap();
    assert_eq!(
        classify(&bytes, 7, &q),
        Ok(QueryAnswer::Positive {
            ttl: 60,
            addresses: nb.clone()
        })
    );
    assert_eq!(classify(&bytes, 8, &q), Err(Ignore::WrongId(7)));
    assert!(matches!(
        classify(&bytes[..20], 7, &q),
        Err(Ignore::Malformed(_))
    ));
    assert!(matches!(classify(&[], 7, &q), Err(Ignore::Malformed(_))));
    let lower = parse_name("alpha").unwrap();
    assert!(
        classify(&bytes, 7, &lower).is_ok(),
        "names compare without case"
    );
    let other = parse_name("BRAVO").unwrap();
    assert!(matches!(
        classify(&bytes, 7, &other),
        Err(Ignore::Unexpected(_))
    ));
    let neg = NameServicePacket::negative_query_response(7, q.clone(), Rcode::NAM_ERR);
    assert_eq!(
        classify(&neg.to_vec().unwrap(), 7, &q),
        Ok(QueryAnswer::Negative(Rcode::NAM_ERR))
    );
    // Our own request, echoed, and a node status answer are not answers to a query.
    let req = NameServicePacket::name_query(7, q.clone(), true);
    assert!(matches!(
        classify(&req.to_vec().unwrap(), 7, &q),
        Err(Ignore::Unexpected(_))
    ));
    let st = NameServicePacket::node_status_response(7, q.clone(), NodeStatus::default());
    assert!(matches!(
        classify(&st.to_vec().unwrap(), 7, &q),
        Err(Ignore::Unexpected(_))
    ));
    let empty = NameServicePacket::positive_query_response(7, q.clone(), 60, Vec::new());
    assert!(matches!(
        classify(&empty.to_vec().unwrap(), 7, &q),
        Err(Ignore::Unexpected(_))
    ));
}

#[test]
fn duplicates_fold_and_ttl_does_not_matter() {
    let a = pos("198.18.0.1", 0, &[("198.18.0.1", false)]);
    let mut b = a.clone();
    if let QueryAnswer::Positive { ttl, .. } = &mut b.result {
        *ttl -= 1;
    }
    let c = pos("198.18.0.2", 0, &[("198.18.0.2", true)]);
    let f = fold(&[a.clone(), c.clone(), b, a.clone()]);
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].copies, f[1].copies), (3, 1));
    assert_eq!(f[0].answer, a);
    assert!(conflicts(&f).is_empty());
}

#[test]
fn conflict_is_different_addresses_for_a_unique_name() {
    let a = pos("198.18.0.1", 0, &[("198.18.0.1", false)]);
    let b = pos("198.18.0.7", 0, &[("198.18.0.7", false)]);
    let c = conflicts(&fold(&[a.clone(), a.clone(), b.clone()]));
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].addresses,
        vec![Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 7)]
    );
    assert_eq!(c[0].responders.len(), 2);
    // Group members each answer with their own address: no conflict.
    let g1 = pos("198.18.0.1", 0, &[("198.18.0.1", true)]);
    let g2 = pos("198.18.0.2", 0, &[("198.18.0.2", true)]);
    assert!(conflicts(&fold(&[g1, g2])).is_empty());
    // The same answer seen on two interfaces is not a conflict either.
    let b1 = pos("198.18.0.7", 1, &[("10.0.0.7", false)]);
    assert!(conflicts(&fold(&[a.clone(), b1])).is_empty());
    // A multihomed host listing two addresses in one answer, answering twice.
    let m = pos(
        "198.18.0.1",
        0,
        &[("198.18.0.1", false), ("10.1.1.1", false)],
    );
    assert!(conflicts(&fold(&[m.clone(), m.clone()])).is_empty());
    // One responder changing its mind is a conflict too.
    let a2 = pos("198.18.0.1", 0, &[("198.18.0.9", false)]);
    assert_eq!(conflicts(&fold(&[a, a2])).len(), 1);
}

fn sent() -> Vec<Sent> {
    vec![Sent {
        via: "lan0".into(),
        to: "198.18.0.255:137".parse().unwrap(),
    }]
}

#[test]
fn text_like_nmblookup() {
    let q = alpha();
    let a = pos("198.18.0.1", 0, &[("198.18.0.1", false)]);
    let r = report(
        &q,
        "broadcast",
        sent(),
        &["lan0".into()],
        BCAST_TIMEOUT,
        &[a.clone(), a],
        Ignored::default(),
    );
    assert!(r.found);
    assert_eq!(r.results.len(), 1);
    assert_eq!(r.results[0].answers, 2);
    let (out, err) = text(&r, false);
    assert_eq!(out, ["198.18.0.1 ALPHA<00>"]);
    assert!(err.is_empty(), "{err:?}");
}

#[test]
fn text_shows_groups_and_conflicts() {
    let q = parse_name("LABWG").unwrap();
    let g = pos("198.18.0.2", 0, &[("198.18.0.2", true)]);
    let u1 = pos("198.18.0.1", 0, &[("198.18.0.1", false)]);
    let u2 = pos("198.18.0.7", 0, &[("198.18.0.7", false)]);
    let labels = ["lan0".to_owned()];
    let r = report(
        &q,
        "broadcast",
        sent(),
        &labels,
        BCAST_TIMEOUT,
        &[g],
        Ignored::default(),
    );
    assert_eq!(text(&r, false).0, ["198.18.0.2 LABWG<00> GROUP"]);
    let r = report(
        &q,
        "broadcast",
        sent(),
        &labels,
        BCAST_TIMEOUT,
        &[u1, u2],
        Ignored::default(),
    );
    let (out, err) = text(&r, false);
    assert_eq!(
        out,
        [
            "198.18.0.1 LABWG<00> CONFLICT",
            "198.18.0.7 LABWG<00> CONFLICT"
        ]
    );
    assert_eq!(err.len(), 1);
    assert!(err[0].contains("name conflict"), "{err:?}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["conflicts"][0]["addresses"][1], "198.18.0.7");
    assert_eq!(json["results"][0]["conflict"], true);
}

#[test]
fn text_for_negative_and_silence() {
    let q = parse_name("NOSUCH").unwrap();
    let neg = Answer {
        via: 0,
        from: "198.18.0.1:137".parse().unwrap(),
        result: QueryAnswer::Negative(Rcode::NAM_ERR),
    };
    let labels = ["unicast".to_owned()];
    let r = report(
        &q,
        "unicast",
        sent(),
        &labels,
        UCAST_TIMEOUT,
        &[neg],
        Ignored::default(),
    );
    assert!(!r.found);
    let (out, err) = text(&r, false);
    assert!(out.is_empty());
    assert_eq!(
        err,
        [
            "nbt: 198.18.0.1 answered that NOSUCH<00> is not there: RCODE 3 NAM_ERR \
          (the name does not exist)"
        ]
    );
    let r = report(
        &q,
        "broadcast",
        sent(),
        &labels,
        BCAST_TIMEOUT,
        &[],
        Ignored::default(),
    );
    let (_, err) = text(&r, false);
    assert_eq!(
        err,
        ["nbt: no answer for NOSUCH<00> within 1.5 s (broadcast to 198.18.0.255:137 on lan0)"]
    );
}
