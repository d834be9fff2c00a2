//! Safe wrappers of the few Linux system calls std does not offer: user and group lookup, the switch to
//! another user with one capability kept, the monotonic clock, the local time zone, and handing freed heap back to
//! the kernel. The crate's other unsafe code is the batched socket calls (`daemon/mmsg.rs`) and
//! the netlink socket (`daemon/netlink.rs`), each with its SAFETY comments.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;

/// `CAP_NET_BIND_SERVICE`: bind ports below 1024.
pub const CAP_NET_BIND_SERVICE: u32 = 10;

/// A user from the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The user ID.
    pub uid: u32,
    /// The primary group ID.
    pub gid: u32,
}

/// Looks a user up by name (`getpwnam_r`): `Ok(None)` when there is no such user.
pub fn user_by_name(name: &str) -> io::Result<Option<User>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the user name"))?;
    let mut size = 1024usize;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: all-zero is a valid `passwd` (null pointers and zero IDs).
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` outlives the use of `pwd`'s
        // strings below.
        let rc =
            unsafe { libc::getpwnam_r(c.as_ptr(), &mut pwd, buf.as_mut_ptr(), size, &mut result) };
        if rc == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: getpwnam_r succeeded, so pw_name points to a NUL-terminated string in `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) }
            .to_string_lossy()
            .into_owned();
        return Ok(Some(User {
            name,
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        }));
    }
}

/// Looks a group up by name (`getgrnam_r`): its ID, or `Ok(None)` when there is no such group.
pub fn group_by_name(name: &str) -> io::Result<Option<u32>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the group name"))?;
    let mut size = 1024usize;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: all-zero is a valid `group` (null pointers and a zero ID).
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; only the ID is read from `grp` after it.
        let rc =
            unsafe { libc::getgrnam_r(c.as_ptr(), &mut grp, buf.as_mut_ptr(), size, &mut result) };
        if rc == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        return Ok((!result.is_null()).then_some(grp.gr_gid));
    }
}

/// The effective user ID.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

fn check(rc: libc::c_int, what: &str) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
        .min(63)
}

/// Becomes `uid`:`gid` with no supplementary groups, keeping only `keep` (a capability number)
/// as permitted and effective capability, and removes every other capability from the
/// bounding set. Call it as root, from the thread that binds sockets afterwards (capabilities
/// belong to threads; the IDs change in every thread of the process).
pub fn switch_user(uid: u32, gid: u32, keep: u32) -> io::Result<()> {
    for cap in 0..=last_cap() {
        if cap != keep {
            // SAFETY: prctl with integer arguments.
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            // EINVAL: a capability this kernel does not have.
            if rc != 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
                check(rc, "cannot drop a capability from the bounding set")?;
            }
        }
    }
    // SAFETY: prctl with integer arguments.
    check(
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1 as libc::c_ulong, 0, 0, 0) },
        "prctl(PR_SET_KEEPCAPS)",
    )?;
    // SAFETY: an empty list.
    check(unsafe { libc::setgroups(0, std::ptr::null()) }, "setgroups")?;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::setgid(gid) }, "setgid")?;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::setuid(uid) }, "setuid")?;
    // SAFETY: prctl with integer arguments.
    check(
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0 as libc::c_ulong, 0, 0, 0) },
        "prctl(PR_SET_KEEPCAPS)",
    )?;
    set_capabilities(1u64 << keep)?;
    // Nothing nbtd might start could gain privileges again.
    // SAFETY: prctl with integer arguments.
    check(
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) },
        "prctl(PR_SET_NO_NEW_PRIVS)",
    )
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets in two words.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Sets the calling thread's permitted and effective capabilities to `set` (a bit mask) and
/// clears the inheritable ones.
fn set_capabilities(set: u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: set as u32,
            permitted: set as u32,
            inheritable: 0,
        },
        CapData {
            effective: (set >> 32) as u32,
            permitted: (set >> 32) as u32,
            inheritable: 0,
        },
    ];
    // SAFETY: capset reads a version 3 header and two data words, both valid here.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    check(rc as libc::c_int, "capset")
}

/// CLOCK_MONOTONIC in microseconds, the clock systemd's `MONOTONIC_USEC=` is in.
pub fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1000
}

/// Hands the heap's free pages back to the kernel (glibc's `malloc_trim`), after a burst of
/// short-lived allocations such as a save of the browse list: otherwise the allocator keeps them
/// and the daemon's resident memory stays at the burst's peak. Elsewhere than glibc, nothing.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it only walks the allocator's own free lists, under
    // the allocator's locks, and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The local time zone at `t`, in minutes west of UTC (UTC+2 is -120), as SMB and RAP carry
/// it (Samba's `get_time_zone`); 0 when the C library cannot tell.
pub fn time_zone(t: std::time::SystemTime) -> i16 {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as libc::time_t);
    // SAFETY: localtime_r writes only into `tm`, which lives on this stack frame.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return 0;
    }
    (-(tm.tm_gmtoff / 60)).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_found_by_name() {
        let root = user_by_name("root").unwrap().expect("root exists");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(root.name, "root");
        assert_eq!(user_by_name("no-such-user-nbtd-test").unwrap(), None);
        assert!(user_by_name("a\0b").is_err());
    }

    #[test]
    fn the_monotonic_clock_moves_forward() {
        let a = monotonic_usec();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(monotonic_usec() > a);
    }
}
