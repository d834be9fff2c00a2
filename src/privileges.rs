//! Dropping root: when nbtd starts as root, it binds its ports and control socket, hands the
//! files it created to an unprivileged user (all but the control socket, which stays root's,
//! in the group `control_group`), and becomes that user with one capability left,
//! `CAP_NET_BIND_SERVICE`, so that interface addresses that appear later can still get their
//! ports 137, 138 and 139. Every other capability goes, from the bounding set too, and
//! `no_new_privs` is set.
//!
//! The user is the `user` key: `nbtd` by default, or `nobody` (with a warning) when no user
//! `nbtd` exists; a user named explicitly must exist. `drop_privileges = false` keeps root.
//! Started as any other user (systemd's `DynamicUser=`, or a plain user with the capability
//! given by the unit), nbtd changes nothing.

use std::io;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::config::{DEFAULT_USER, FALLBACK_USER};
use crate::sys::{self, CAP_NET_BIND_SERVICE, User};

/// Why nbtd could not become its unprivileged user.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The user does not exist.
    #[error(
        "user = {name:?}: there is no such user; create it (useradd --system --no-create-home \
         --shell /usr/sbin/nologin {name}), name another unprivileged user in the `user` key, \
         or set drop_privileges = false to keep running as root"
    )]
    NoSuchUser {
        /// The name.
        name: String,
    },
    /// The user is root.
    #[error(
        "user = {name:?} is root (UID 0): name an unprivileged user in the `user` key, or set \
         drop_privileges = false to keep running as root"
    )]
    Root {
        /// The name.
        name: String,
    },
    /// The user database could not be read.
    #[error("cannot look up user {name:?} (the `user` key): {source}")]
    Lookup {
        /// The name.
        name: String,
        /// Why.
        source: io::Error,
    },
    /// A file could not be handed to the user.
    #[error("cannot give {} to user {user}: {source}", path.display())]
    Chown {
        /// The file.
        path: PathBuf,
        /// The user.
        user: String,
        /// Why.
        source: io::Error,
    },
    /// The switch itself failed.
    #[error("cannot become user {user}: {source}")]
    Switch {
        /// The user.
        user: String,
        /// Why.
        source: io::Error,
    },
    /// The control socket's group does not exist.
    #[error(
        "control_group = {name:?}: there is no such group; create it (groupadd --system {name}) \
         and add the users who may run nbt daemon, name another group, or leave control_group \
         empty so that only root may use the control socket"
    )]
    NoSuchGroup {
        /// The name.
        name: String,
    },
    /// The group database could not be read.
    #[error("cannot look up group {name:?} (the `control_group` key): {source}")]
    GroupLookup {
        /// The name.
        name: String,
        /// Why.
        source: io::Error,
    },
    /// The state directory is not writable by the user.
    #[error(
        "the state directory {} is not writable by user {user}, so the browse list could not \
         be saved: chown -R {user}: {}, or set state_dir to a directory {user} may write",
        path.display(), path.display()
    )]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The user.
        user: String,
    },
}

/// Who nbtd becomes, once its ports are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The user.
    pub user: User,
}

/// The switch `user` asks for, or `None` when nbtd is not root or the switch is disabled
/// (`user` is `None`). Run it before binding anything, so that a wrong user stops nbtd early.
pub fn plan(user: Option<&str>) -> Result<Option<Plan>, PrivilegeError> {
    let Some(name) = user else {
        return Ok(None);
    };
    if sys::geteuid() != 0 {
        return Ok(None);
    }
    let lookup = |name: &str| {
        sys::user_by_name(name).map_err(|source| PrivilegeError::Lookup {
            name: name.to_owned(),
            source,
        })
    };
    let user = match lookup(name)? {
        Some(u) => u,
        None if name == DEFAULT_USER => match lookup(FALLBACK_USER)? {
            Some(u) => {
                warn!(
                    "no user {DEFAULT_USER} exists, so nbtd runs as {FALLBACK_USER}; create a \
                     dedicated one (useradd --system --no-create-home --shell \
                     /usr/sbin/nologin {DEFAULT_USER}) or name one in the `user` key"
                );
                u
            }
            None => {
                return Err(PrivilegeError::NoSuchUser {
                    name: name.to_owned(),
                });
            }
        },
        None => {
            return Err(PrivilegeError::NoSuchUser {
                name: name.to_owned(),
            });
        }
    };
    if user.uid == 0 {
        return Err(PrivilegeError::Root { name: user.name });
    }
    Ok(Some(Plan { user }))
}

/// The owner the control socket gets when nbtd runs as root: root, and the group
/// `control_group` names (root's when `None`). `None` when nbtd is not root, and leaves the
/// socket as it made it. Run it before binding anything, so that a wrong group stops nbtd early.
pub fn control_owner(group: Option<&str>) -> Result<Option<(u32, u32)>, PrivilegeError> {
    if sys::geteuid() != 0 {
        return Ok(None);
    }
    let Some(name) = group else {
        return Ok(Some((0, 0)));
    };
    match sys::group_by_name(name) {
        Ok(Some(gid)) => Ok(Some((0, gid))),
        Ok(None) => Err(PrivilegeError::NoSuchGroup {
            name: name.to_owned(),
        }),
        Err(source) => Err(PrivilegeError::GroupLookup {
            name: name.to_owned(),
            source,
        }),
    }
}

/// Makes the control socket `uid:gid`, mode `mode`: the user nbtd becomes does not own it, so
/// another service running as that user cannot use it. nbtd accepts on the socket it already
/// listens on, which needs no permission on the file.
pub fn give_control_socket(path: &Path, (uid, gid): (u32, u32), mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

impl Plan {
    /// Gives `path` to the user (and its primary group).
    pub fn hand_over(&self, path: &Path) -> Result<(), PrivilegeError> {
        std::os::unix::fs::lchown(path, Some(self.user.uid), Some(self.user.gid)).map_err(
            |source| PrivilegeError::Chown {
                path: path.to_owned(),
                user: self.user.name.clone(),
                source,
            },
        )
    }

    /// Becomes the user, keeping only `CAP_NET_BIND_SERVICE`. Call it from the thread that
    /// runs the daemon, after every socket is bound.
    pub fn switch(&self) -> Result<(), PrivilegeError> {
        sys::switch_user(self.user.uid, self.user.gid, CAP_NET_BIND_SERVICE).map_err(|source| {
            PrivilegeError::Switch {
                user: self.user.name.clone(),
                source,
            }
        })?;
        info!(
            user = %self.user.name,
            uid = self.user.uid,
            gid = self.user.gid,
            "now running as {} (UID {}, GID {}) with only CAP_NET_BIND_SERVICE",
            self.user.name,
            self.user.uid,
            self.user.gid
        );
        Ok(())
    }

    /// Checks, as the user, that the state directory takes new files.
    pub fn check_state_dir(&self, dir: &Path) -> Result<(), PrivilegeError> {
        let probe = dir.join(format!(".nbtd-write-check-{}", std::process::id()));
        match crate::fsafe::create_new(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                Ok(())
            }
            Err(_) => Err(PrivilegeError::StateDir {
                path: dir.to_owned(),
                user: self.user.name.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_switch_when_disabled_and_unknown_users_are_named() {
        assert_eq!(plan(None).unwrap(), None);
        if sys::geteuid() != 0 {
            // Not root: nothing to drop, whatever the user.
            assert_eq!(plan(Some("no-such-user-nbtd-test")).unwrap(), None);
            return;
        }
        let e = plan(Some("no-such-user-nbtd-test")).unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("user = \"no-such-user-nbtd-test\""), "{m}");
        assert!(m.contains("drop_privileges = false"), "{m}");
        let e = plan(Some("root")).unwrap_err();
        assert!(e.to_string().contains("is root"), "{e}");
        let p = plan(Some("nobody")).unwrap().expect("root switches");
        assert_ne!(p.user.uid, 0);
    }
}
