//! The browser (MS-BRWS): the browse list, announcements, elections and the roles of a browser
//! server.

pub mod list;
