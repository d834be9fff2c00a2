//! Opening files with care, for every file nbtd reads or writes.
//!
//! - A file is read only when it is a regular file, checked on the open descriptor (`fstat`),
//!   and only up to a limit: a symbolic link to `/dev/zero` (which reports 0 bytes) or a FIFO
//!   (which blocks an open for reading until a writer comes) is refused, never read without end.
//!   Files nbtd owns (the state) are opened with `O_NOFOLLOW`; the configuration may be a link,
//!   as configuration managers make it.
//! - A file is written through a temporary file in the same directory: a stale temporary file
//!   is removed, a new one created with `O_EXCL` and `O_NOFOLLOW` (so a link planted there is
//!   never followed), mode 0600, written, fsynced and renamed over the target, and the directory
//!   is fsynced.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Whether the last component of a path may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A link is refused (`O_NOFOLLOW`): files nbtd writes itself.
    Refuse,
    /// A link is followed, and what it points to must be a regular file.
    Follow,
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed (`NotFound` among them).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is not one nbtd reads: what it is instead, as a phrase ("a FIFO").
    #[error("{0}")]
    Refused(String),
}

/// The mode of the files nbtd creates.
pub const FILE_MODE: u32 = 0o600;

/// Reads the regular file at `path`, at most `max_bytes` of it: opened with `O_NONBLOCK` and
/// `O_CLOEXEC` (and `O_NOFOLLOW` for [`Links::Refuse`]), checked with `fstat` to be a regular
/// file, and read through a limit of `max_bytes + 1`, so that a larger file is refused.
pub fn read_regular(path: &Path, max_bytes: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let f = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) && links == Links::Refuse => {
            return Err(ReadError::Refused(
                "a symbolic link, which nbtd does not follow here".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let kind = f.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(ReadError::Refused(format!("{what}, not a regular file")));
    }
    let mut bytes = Vec::new();
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::Refused(format!(
            "larger than {}",
            human_size(max_bytes)
        )));
    }
    Ok(bytes)
}

fn human_size(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Creates `path` as a new file, mode [`FILE_MODE`], after removing whatever stale entry was
/// there (a symbolic link is removed, not followed): `O_CREAT | O_EXCL | O_NOFOLLOW`, so that
/// an entry planted between the removal and the creation makes the creation fail.
pub fn create_new(path: &Path) -> io::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Writes `name` in `dir` atomically through `name.tmp` (see the module doc): `write` fills
/// the buffered temporary file.
pub fn write_atomic(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let f = create_new(&tmp)?;
    let written = (|| {
        let mut w = BufWriter::new(&f);
        write(&mut w)?;
        w.flush()?;
        drop(w);
        f.sync_all()
    })();
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dir.join(name))?;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?
        .sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("nbtd-fsafe-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let d = tmpdir("read");
        let f = d.join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_regular(&f, 5, Links::Refuse).unwrap(), b"12345");
        let e = read_regular(&f, 4, Links::Refuse).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");

        let zero = d.join("zero");
        symlink("/dev/zero", &zero).unwrap();
        let e = read_regular(&zero, 1 << 20, Links::Refuse).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = read_regular(&zero, 1 << 20, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");

        let link = d.join("link");
        symlink(&f, &link).unwrap();
        assert!(matches!(
            read_regular(&link, 10, Links::Refuse),
            Err(ReadError::Refused(_))
        ));
        assert_eq!(read_regular(&link, 10, Links::Follow).unwrap(), b"12345");

        let fifo = d.join("fifo");
        // A FIFO with no writer: opening it blocks without O_NONBLOCK.
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let e = read_regular(&fifo, 10, Links::Refuse).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");

        assert!(matches!(
            read_regular(&d.join("missing"), 10, Links::Refuse),
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_link_at_the_temporary_file_is_removed_not_followed() {
        let d = tmpdir("write");
        let victim = d.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        symlink(&victim, d.join("out.tmp")).unwrap();
        write_atomic(&d, "out", |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(d.join("out")).unwrap(), b"new");
        assert!(!d.join("out.tmp").exists());
        let mode = std::fs::metadata(d.join("out"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, FILE_MODE);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
