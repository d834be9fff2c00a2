//! Proptest strategies for browser frames, shared with the envelope layers' round-trip tests.

use super::*;
use proptest::collection::vec;
use proptest::prelude::*;

/// Any name of 0 to 15 non-NUL bytes.
pub fn server_name() -> impl Strategy<Value = ServerName> {
    vec(1u8..=255, 0..=MAX_NAME_LEN)
        .prop_map(|b| ServerName::from_bytes(&b).expect("at most 15 non-NUL bytes"))
}

/// A comment that can be emitted: up to 48 non-NUL bytes.
pub fn comment() -> impl Strategy<Value = Vec<u8>> {
    vec(1u8..=255, 0..=MAX_COMMENT_LEN)
}

/// Any announcement body with an emittable comment.
pub fn announcement() -> impl Strategy<Value = Announcement> {
    (
        (any::<u8>(), any::<u32>(), server_name(), any::<[u8; 2]>()),
        (any::<u32>(), any::<[u8; 2]>(), any::<u16>(), comment()),
    )
        .prop_map(
            |((uc, per, name, os), (ty, bv, sig, comment))| Announcement {
                update_count: uc,
                periodicity_ms: per,
                server_name: name,
                os_version_major: os[0],
                os_version_minor: os[1],
                server_type: ServerType::from_bits_retain(ty),
                browser_version_major: bv[0],
                browser_version_minor: bv[1],
                signature: sig,
                comment,
            },
        )
}

/// Any RequestElection.
pub fn request_election() -> impl Strategy<Value = RequestElection> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        server_name(),
    )
        .prop_map(
            |(version, c, uptime_ms, unused, server_name)| RequestElection {
                version,
                criteria: ElectionCriteria::from_bits(c),
                uptime_ms,
                unused,
                server_name,
            },
        )
}

/// Any browser frame that can be emitted.
pub fn browser_frame() -> impl Strategy<Value = BrowserFrame> {
    prop_oneof![
        announcement().prop_map(BrowserFrame::HostAnnouncement),
        announcement().prop_map(BrowserFrame::LocalMasterAnnouncement),
        announcement().prop_map(BrowserFrame::DomainAnnouncement),
        (any::<u8>(), server_name(), vec(any::<u8>(), 0..20)).prop_map(
            |(reserved, response_name, trailing)| {
                BrowserFrame::AnnouncementRequest(AnnouncementRequest {
                    reserved,
                    response_name,
                    trailing,
                })
            }
        ),
        request_election().prop_map(BrowserFrame::RequestElection),
        (any::<u8>(), any::<u32>()).prop_map(|(requested_count, token)| {
            BrowserFrame::GetBackupListRequest(GetBackupListRequest {
                requested_count,
                token,
            })
        }),
        // 6 + 25 × 16 = 406 bytes at most: within MAX_FRAME_LEN.
        (any::<u32>(), vec(server_name(), 0..=25)).prop_map(|(token, servers)| {
            BrowserFrame::GetBackupListResponse(GetBackupListResponse { token, servers })
        }),
        server_name().prop_map(|n| BrowserFrame::BecomeBackup {
            browser_to_promote: n
        }),
        server_name().prop_map(|n| BrowserFrame::MasterAnnouncement {
            master_browser_server_name: n
        }),
        any::<u8>().prop_map(|t| BrowserFrame::ResetStateRequest {
            reset_type: ResetStateType::from_bits_retain(t)
        }),
    ]
}

/// Any LANMAN frame that can be emitted.
pub fn lanman_frame() -> impl Strategy<Value = LanmanFrame> {
    prop_oneof![
        (
            any::<u32>(),
            any::<[u8; 2]>(),
            any::<u16>(),
            server_name(),
            comment()
        )
            .prop_map(|(ty, os, per, server_name, comment)| {
                LanmanFrame::HostAnnouncement(LanmanAnnouncement {
                    server_type: ServerType::from_bits_retain(ty),
                    os_version_major: os[0],
                    os_version_minor: os[1],
                    periodicity_secs: per,
                    server_name,
                    comment,
                })
            }),
        vec(any::<u8>(), 0..64).prop_map(|body| LanmanFrame::AnnouncementRequest { body }),
    ]
}
