//! Building replies: the reply header, error replies, NBSS framing, split TRANSACTION
//! responses and ECHO.

use super::NBSS_HEADER_LEN;
use crate::wire::Emit;
use crate::wire::smb::commands::ntstatus;
use crate::wire::smb::{SmbFlags, SmbFlags2, SmbHeader, SmbMessage, TransactionResponse};

/// Most ECHO replies to one request.
const MAX_ECHOES: u16 = 10;

/// Wraps an SMB message in a SESSION MESSAGE frame.
pub(super) fn session_message(msg: &[u8]) -> Vec<u8> {
    let len = msg.len() as u32;
    let mut f = Vec::with_capacity(NBSS_HEADER_LEN + msg.len());
    f.push(0x00);
    f.push((len >> 16) as u8 & 0x01);
    f.extend_from_slice(&(len as u16).to_be_bytes());
    f.extend_from_slice(msg);
    f
}

pub(super) fn frame_of(m: &SmbMessage) -> Vec<u8> {
    // A message built here always fits: the byte block of every reply is far below 65535.
    session_message(&m.to_vec().unwrap_or_default())
}

/// The header of a reply to `req`: REPLY, NT status, Unicode when the request was.
pub(super) fn reply_header(req: &SmbHeader, status: u32) -> SmbHeader {
    let mut flags2 = SmbFlags2::LONG_NAMES | SmbFlags2::NT_STATUS;
    if req.is_unicode() {
        flags2 |= SmbFlags2::UNICODE;
    }
    SmbHeader {
        command: req.command,
        status,
        flags: SmbFlags::REPLY | SmbFlags::CASE_INSENSITIVE,
        flags2,
        pid_high: req.pid_high,
        security_features: [0; 8],
        reserved: 0,
        tid: req.tid,
        pid_low: req.pid_low,
        uid: req.uid,
        mid: req.mid,
    }
}

/// An error reply: the status, WordCount 0, ByteCount 0.
pub(super) fn error_frame(req: &SmbHeader, status: u32) -> Vec<u8> {
    frame_of(&SmbMessage {
        header: reply_header(req, status),
        words: Vec::new(),
        bytes: Vec::new(),
        trailing: Vec::new(),
    })
}

/// Splits a transaction reply into TRANSACTION responses of at most `max_msg` bytes each, laid
/// out as smbd lays them out (`send_trans_reply`), with displacements.
pub(super) fn transaction_pieces(
    header: SmbHeader,
    params: &[u8],
    data: &[u8],
    max_msg: usize,
) -> Vec<Vec<u8>> {
    // Byte block start (55) + 1 pad byte: where the parameters of every piece start.
    const REGION_START: usize = 56;
    let room = max_msg.saturating_sub(REGION_START).max(1);
    let (mut p_at, mut d_at) = (0usize, 0usize);
    let mut out = Vec::new();
    loop {
        let p_len = (params.len() - p_at).min(room);
        let d_start = REGION_START + p_len + p_len % 4;
        let d_len = (data.len() - d_at).min(max_msg.saturating_sub(d_start));
        let mut t = TransactionResponse::new(
            header,
            params[p_at..p_at + p_len].to_vec(),
            data[d_at..d_at + d_len].to_vec(),
        );
        t.total_parameter_count = params.len() as u16;
        t.total_data_count = data.len() as u16;
        t.parameter_displacement = p_at as u16;
        t.data_displacement = d_at as u16;
        out.push(session_message(&t.to_vec().unwrap_or_default()));
        p_at += p_len;
        d_at += d_len;
        if p_at == params.len() && d_at == data.len() {
            return out;
        }
        if p_len == 0 && d_len == 0 {
            // Cannot happen with max_msg >= MIN_CLIENT_BUFFER; never loop without progress.
            return out;
        }
    }
}

/// ECHO: EchoCount replies (at most 10), each with its SequenceNumber and the data.
pub(super) fn echo(msg: &SmbMessage) -> Vec<Vec<u8>> {
    let h = &msg.header;
    let Some(count) = msg.word(0).filter(|_| msg.word_count() == 1) else {
        return vec![error_frame(h, ntstatus::INVALID_PARAMETER)];
    };
    (1..=count.min(MAX_ECHOES))
        .map(|seq| {
            frame_of(&SmbMessage {
                header: reply_header(h, ntstatus::SUCCESS),
                words: seq.to_le_bytes().to_vec(),
                bytes: msg.bytes.clone(),
                trailing: Vec::new(),
            })
        })
        .collect()
}
