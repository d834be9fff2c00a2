//! A TRANSACTION reply from its pieces.

use crate::error::ParseError;
use crate::wire::smb::TransactionResponse;

/// The parameters and data of a TRANSACTION reply, piece by piece (MS-CIFS 3.2.5.37).
#[derive(Debug, Clone, Default)]
pub(super) struct Reassembly {
    pub(super) params: Vec<u8>,
    pub(super) data: Vec<u8>,
    totals: Option<(usize, usize)>,
}

/// Offsets of the TRANSACTION response's words from the header start, for errors.
mod rsp_at {
    pub const PARAMETER_COUNT: usize = 33 + 6;
    pub const PARAMETER_DISPLACEMENT: usize = 33 + 10;
    pub const DATA_COUNT: usize = 33 + 12;
    pub const DATA_DISPLACEMENT: usize = 33 + 16;
}

impl Reassembly {
    /// Adds one piece; whether the reply is complete. Pieces must come in order; the totals may
    /// shrink from piece to piece, never grow.
    pub(super) fn add(&mut self, t: &TransactionResponse) -> Result<bool, ParseError> {
        let mut tp = usize::from(t.total_parameter_count);
        let mut td = usize::from(t.total_data_count);
        if let Some((p, d)) = self.totals {
            (tp, td) = (tp.min(p), td.min(d));
        }
        if usize::from(t.parameter_displacement) != self.params.len() {
            return Err(ParseError::bad_value(
                "ParameterDisplacement",
                rsp_at::PARAMETER_DISPLACEMENT,
                u64::from(t.parameter_displacement),
                "the parameter bytes received so far (pieces in order)",
            ));
        }
        if usize::from(t.data_displacement) != self.data.len() {
            return Err(ParseError::bad_value(
                "DataDisplacement",
                rsp_at::DATA_DISPLACEMENT,
                u64::from(t.data_displacement),
                "the data bytes received so far (pieces in order)",
            ));
        }
        if self.params.len() + t.parameters.len() > tp {
            return Err(ParseError::malformed(
                "ParameterCount",
                rsp_at::PARAMETER_COUNT,
                "more parameter bytes than TotalParameterCount",
            ));
        }
        if self.data.len() + t.data.len() > td {
            return Err(ParseError::malformed(
                "DataCount",
                rsp_at::DATA_COUNT,
                "more data bytes than TotalDataCount",
            ));
        }
        self.params.extend_from_slice(&t.parameters);
        self.data.extend_from_slice(&t.data);
        self.totals = Some((tp, td));
        let complete = self.params.len() == tp && self.data.len() == td;
        if !complete && t.parameters.is_empty() && t.data.is_empty() {
            return Err(ParseError::malformed(
                "ParameterCount",
                rsp_at::PARAMETER_COUNT,
                "a piece with no bytes before the reply is complete",
            ));
        }
        Ok(complete)
    }
}
