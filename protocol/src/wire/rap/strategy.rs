//! Proptest strategies for RAP requests, calls and records.

use super::records::{
    ServerInfo0, ServerInfo1, SessionInfo2, ShareInfo0, ShareInfo1, ShareName, TimeOfDayInfo,
    WkstaInfo10,
};
use super::*;
use crate::wire::browse::strategy::server_name;
use proptest::collection::vec;
use proptest::prelude::*;

/// A string a `z` item can carry: no NUL.
fn zstr(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 0..=max)
}

/// One ParamDesc item with a matching value (or none).
fn item() -> impl Strategy<Value = (Vec<u8>, Option<RapValue>)> {
    prop_oneof![
        any::<u16>().prop_map(|w| (b"W".to_vec(), Some(RapValue::Word(w)))),
        any::<u16>().prop_map(|w| (b"L".to_vec(), Some(RapValue::Word(w)))),
        any::<u16>().prop_map(|w| (b"T".to_vec(), Some(RapValue::Word(w)))),
        any::<u32>().prop_map(|d| (b"D".to_vec(), Some(RapValue::Dword(d)))),
        any::<u8>().prop_map(|b| (b"B".to_vec(), Some(RapValue::Bytes(vec![b])))),
        vec(any::<u8>(), 0..20).prop_map(|b| {
            (
                format!("B{}", b.len()).into_bytes(),
                Some(RapValue::Bytes(b)),
            )
        }),
        zstr(20).prop_map(|s| (b"z".to_vec(), Some(RapValue::Str(s)))),
        prop::sample::select(b"Orsehgi".to_vec()).prop_map(|c| (vec![c], None)),
    ]
}

/// Any request that frames: a ParamDesc of up to 8 items with matching values.
pub fn rap_request() -> impl Strategy<Value = RapRequest> {
    (
        any::<u16>(),
        vec(item(), 0..8),
        vec(0x21u8..=0x7e, 0..16),
        vec(any::<u8>(), 0..8),
    )
        .prop_map(|(opcode, items, data_desc, extra)| {
            let mut param_desc = Vec::new();
            let mut values = Vec::new();
            for (d, v) in items {
                param_desc.extend(d);
                values.extend(v);
            }
            RapRequest {
                opcode,
                param_desc,
                data_desc,
                values,
                extra,
            }
        })
}

fn level() -> impl Strategy<Value = InfoLevel> {
    prop_oneof![Just(InfoLevel::Zero), Just(InfoLevel::One)]
}

/// Any call nbtd serves (not `Unsupported`).
pub fn rap_call() -> impl Strategy<Value = RapCall> {
    let server_enum = (
        level(),
        any::<u16>(),
        any::<u32>(),
        zstr(15),
        any::<bool>(),
        zstr(15),
    );
    prop_oneof![
        (level(), any::<u16>()).prop_map(|(level, receive_buffer_len)| RapCall::NetShareEnum {
            level,
            receive_buffer_len
        }),
        server_enum.prop_map(|(level, len, ty, domain, has_domain, first)| {
            let mut e = ServerEnumRequest {
                level,
                receive_buffer_len: len,
                server_type: ServerType::from_bits_retain(ty),
                domain: Some(domain),
                first_name: first,
            };
            if has_domain {
                RapCall::NetServerEnum3(e)
            } else {
                e.first_name.clear();
                if e.server_type.bits() % 2 == 0 {
                    e.domain = None;
                }
                RapCall::NetServerEnum2(e)
            }
        }),
        (
            any::<bool>(),
            any::<u16>(),
            any::<u16>(),
            vec(0x21u8..=0x7e, 0..16)
        )
            .prop_map(|(server, level, receive_buffer_len, data_desc)| {
                if server {
                    RapCall::NetServerGetInfo {
                        level,
                        receive_buffer_len,
                        data_desc,
                    }
                } else {
                    RapCall::NetWkstaGetInfo {
                        level,
                        receive_buffer_len,
                        data_desc,
                    }
                }
            }),
        (any::<u16>(), any::<u16>(), vec(0x21u8..=0x7e, 0..16)).prop_map(
            |(level, receive_buffer_len, data_desc)| RapCall::NetSessionEnum {
                level,
                receive_buffer_len,
                data_desc,
            }
        ),
        (
            zstr(15),
            any::<u16>(),
            any::<u16>(),
            vec(0x21u8..=0x7e, 0..16)
        )
            .prop_map(|(client, level, receive_buffer_len, data_desc)| {
                RapCall::NetSessionGetInfo {
                    client,
                    level,
                    receive_buffer_len,
                    data_desc,
                }
            }),
        (any::<u16>(), vec(0x21u8..=0x7e, 0..16)).prop_map(|(receive_buffer_len, data_desc)| {
            RapCall::NetRemoteTod {
                receive_buffer_len,
                data_desc,
            }
        }),
    ]
}

/// Any session_info_2 with strings that can be written.
pub fn session_info2() -> impl Strategy<Value = SessionInfo2> {
    (
        (zstr(15), zstr(20), zstr(20)),
        any::<[u16; 3]>(),
        any::<[u32; 3]>(),
    )
        .prop_map(|((client, user, client_type), w, d)| SessionInfo2 {
            client,
            user,
            connections: w[0],
            opens: w[1],
            users: w[2],
            session_time: d[0],
            idle_time: d[1],
            user_flags: d[2],
            client_type,
        })
}

/// Any wksta_info_10 with strings that can be written.
pub fn wksta_info10() -> impl Strategy<Value = WkstaInfo10> {
    (
        (zstr(15), zstr(20), zstr(15), zstr(15), zstr(15)),
        any::<[u8; 2]>(),
    )
        .prop_map(
            |((computer, user, langroup, logon_domain, other_domains), v)| WkstaInfo10 {
                computer,
                user,
                langroup,
                version_major: v[0],
                version_minor: v[1],
                logon_domain,
                other_domains,
            },
        )
}

/// Any time_of_day_info.
pub fn time_of_day_info() -> impl Strategy<Value = TimeOfDayInfo> {
    (
        any::<[u32; 2]>(),
        any::<[u8; 4]>(),
        any::<(i16, u16)>(),
        any::<[u8; 3]>(),
        any::<u16>(),
    )
        .prop_map(|(d, b, (timezone, tinterval), dm, year)| TimeOfDayInfo {
            elapsed: d[0],
            msecs: d[1],
            hours: b[0],
            mins: b[1],
            secs: b[2],
            hunds: b[3],
            timezone,
            tinterval,
            day: dm[0],
            month: dm[1],
            year,
            weekday: dm[2],
        })
}

/// Any RAP reply.
pub fn rap_response() -> impl Strategy<Value = RapResponse> {
    (
        any::<u16>(),
        any::<u16>(),
        vec(any::<u16>(), 0..4),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(|(status, converter, words, data)| RapResponse {
            status,
            converter,
            words,
            data,
        })
}

/// Any share name.
pub fn share_name() -> impl Strategy<Value = ShareName> {
    vec(1u8..=255, 1..=12).prop_map(|b| ShareName::new(&b).expect("1 to 12 non-NUL bytes"))
}

/// Any share_info_0.
pub fn share_info0() -> impl Strategy<Value = ShareInfo0> {
    share_name().prop_map(|name| ShareInfo0 { name })
}

/// Any share_info_1 with a remark that can be written.
pub fn share_info1() -> impl Strategy<Value = ShareInfo1> {
    (share_name(), any::<u16>(), zstr(60)).prop_map(|(name, share_type, remark)| ShareInfo1 {
        name,
        share_type,
        remark,
    })
}

/// Any server_info_0.
pub fn server_info0() -> impl Strategy<Value = ServerInfo0> {
    server_name().prop_map(|name| ServerInfo0 { name })
}

/// Any server_info_1 with a comment that can be written.
pub fn server_info1() -> impl Strategy<Value = ServerInfo1> {
    (server_name(), any::<[u8; 2]>(), any::<u32>(), zstr(60)).prop_map(|(name, v, ty, comment)| {
        ServerInfo1 {
            name,
            version_major: v[0],
            version_minor: v[1],
            server_type: ServerType::from_bits_retain(ty),
            comment,
        }
    })
}
