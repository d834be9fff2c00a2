//! Browser protocol frames (MS-BRWS 2.2) carried on `\MAILSLOT\BROWSE`.
