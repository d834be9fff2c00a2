//! Why a listing connection fails: the reply's status in words, and [`ClientError`].

use core::fmt;

use crate::error::ParseError;
use crate::wire::rap::status as rap_status;
use crate::wire::smb::commands::ntstatus;
use crate::wire::smb::{SmbFlags2, SmbHeader};
use crate::wire::ssn::{NegativeResponseCode, Retarget};

/// The Status of a reply: an NTSTATUS, or a DOS error class and code when Flags2 has no
/// NT_STATUS (MS-CIFS 2.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmbStatus {
    /// A 32-bit NTSTATUS.
    Nt(u32),
    /// ErrorClass and ErrorCode.
    Dos {
        /// ErrorClass: 1 ERRDOS, 2 ERRSRV, 3 ERRHRD.
        class: u8,
        /// ErrorCode.
        code: u16,
    },
}

impl SmbStatus {
    /// The status of a reply header.
    pub fn of(h: &SmbHeader) -> Self {
        if h.flags2.contains(SmbFlags2::NT_STATUS) {
            SmbStatus::Nt(h.status)
        } else {
            SmbStatus::Dos {
                class: h.status as u8,
                code: (h.status >> 16) as u16,
            }
        }
    }

    /// Whether this is success.
    pub fn is_success(self) -> bool {
        match self {
            SmbStatus::Nt(s) => s == ntstatus::SUCCESS,
            SmbStatus::Dos { class, .. } => class == 0,
        }
    }

    /// Whether the server refuses us the access: access denied, logon failure, a disabled or
    /// restricted account (ERRDOS/ERRnoaccess, ERRSRV/ERRbadpw and ERRSRV/ERRaccess in DOS
    /// terms).
    pub fn is_access_denied(self) -> bool {
        match self {
            SmbStatus::Nt(s) => matches!(
                s,
                ntstatus::ACCESS_DENIED
                    | ntstatus::LOGON_FAILURE
                    | ntstatus::ACCOUNT_RESTRICTION
                    | ntstatus::ACCOUNT_DISABLED
                    | ntstatus::NETWORK_ACCESS_DENIED
            ),
            SmbStatus::Dos { class, code } => matches!((class, code), (1, 5) | (2, 2) | (2, 4)),
        }
    }
}

impl fmt::Display for SmbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SmbStatus::Nt(s) => match ntstatus::name(s) {
                Some(n) => write!(f, "{n} ({s:#010x})"),
                None => write!(f, "NTSTATUS {s:#010x}"),
            },
            SmbStatus::Dos { class, code } => write!(f, "DOS error class {class} code {code}"),
        }
    }
}

/// What a RAP status means, in words (lmerr.h, winerror.h).
pub fn rap_status_meaning(status: u16) -> &'static str {
    match status {
        rap_status::SUCCESS => "success",
        rap_status::MORE_DATA => "more data",
        5 => "access denied",
        rap_status::NOT_SUPPORTED => "not supported",
        65 => "network access denied",
        87 => "invalid parameter",
        124 => "invalid level",
        2114 => "the Server service is not started",
        rap_status::BUF_TOO_SMALL => "the buffer is too small",
        2351 => "invalid computer name",
        6118 => "no browser servers found",
        _ => "an unknown status",
    }
}

/// What a NEGATIVE SESSION RESPONSE's ERROR_CODE means, in words, with the code.
pub fn negative_meaning(code: NegativeResponseCode) -> String {
    let words = match code {
        NegativeResponseCode::NotListeningOnCalledName => "not listening on the called name",
        NegativeResponseCode::NotListeningForCallingName => "not listening for the calling name",
        NegativeResponseCode::CalledNameNotPresent => "called name not present",
        NegativeResponseCode::InsufficientResources => {
            "called name present, but insufficient resources"
        }
        NegativeResponseCode::UnspecifiedError => "unspecified error",
        NegativeResponseCode::Unknown(_) => "an undefined error code",
    };
    format!("{words} ({:#04x})", code.to_u8())
}

/// Why a listing connection failed; the client is closed after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A NEGATIVE SESSION RESPONSE to our SESSION REQUEST.
    #[error("the server refused the NetBIOS session for {called}: {}", negative_meaning(*.code))]
    SessionRefused {
        /// The name we called.
        called: String,
        /// The server's ERROR_CODE.
        code: NegativeResponseCode,
    },
    /// A RETARGET SESSION RESPONSE; like smbclient, the client does not follow it.
    #[error("the server redirects the session to {}:{} (RETARGET), which is not followed", .0.ip, .0.port)]
    Retarget(Retarget),
    /// A frame longer than the client accepts.
    #[error("the server sent a frame of {length} bytes, over the limit of {max}")]
    FrameTooLarge {
        /// The frame's length, header included.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// A reply that does not parse.
    #[error("malformed {what}: {error}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Which field, where, and why.
        error: ParseError,
    },
    /// The server answered with an SMB2 message.
    #[error("the server answered our SMB1 request in SMB2")]
    Smb2,
    /// The server accepts none of our dialects (DialectIndex 0xFFFF).
    #[error("the server accepts none of the SMB1 dialects offered (NT LM 0.12)")]
    NoCommonDialect,
    /// The server insists on extended security (SPNEGO), which the client does not speak.
    #[error("the server requires extended security (SPNEGO), which this client does not speak")]
    ExtendedSecurity,
    /// A reply with an error status.
    #[error("{what} failed: {status}")]
    Status {
        /// The request that failed.
        what: &'static str,
        /// Its status.
        status: SmbStatus,
    },
    /// A RAP reply with an error status.
    #[error("RAP {call} failed with status {status} ({})", rap_status_meaning(*.status))]
    Rap {
        /// The RAP call.
        call: &'static str,
        /// Its status.
        status: u16,
    },
    /// A well-formed reply that does not answer our request.
    #[error("unexpected reply while waiting for the {expected}: {got}")]
    Unexpected {
        /// The reply expected.
        expected: &'static str,
        /// What came instead.
        got: String,
    },
    /// A call made in the wrong state (a driver bug).
    #[error("{0} is not possible in this state of the connection")]
    NotReady(&'static str),
    /// A request that could not be written (a bug).
    #[error("internal error: {0}")]
    Bug(&'static str),
}

impl ClientError {
    /// Whether the server refused us (a negative session response, access denied, no such
    /// share, a RAP access error), as opposed to a failure to talk with it.
    pub fn is_refusal(&self) -> bool {
        match self {
            ClientError::SessionRefused { .. } => true,
            ClientError::Status { status, .. } => {
                status.is_access_denied() || *status == SmbStatus::Nt(ntstatus::BAD_NETWORK_NAME)
            }
            ClientError::Rap { status, .. } => matches!(status, 5 | 65),
            _ => false,
        }
    }
}
