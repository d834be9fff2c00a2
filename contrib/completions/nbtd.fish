complete -c nbtd -s c -l config -d 'The configuration file (TOML, see nbtd.toml(5); default: none, built-in defaults)' -r -F
complete -c nbtd -l netbios-name -d 'The NetBIOS name (default: the host name, upper-cased, cut to 15 characters)' -r
complete -c nbtd -l workgroup -d 'The workgroup (default WORKGROUP)' -r
complete -c nbtd -l interfaces -d 'Serve only these interfaces, in place of the file\'s [interfaces] allow list (comma-separated or repeated; * matches any run of characters). Naming lo or a container bridge allows it' -r
complete -c nbtd -l state-dir -d 'Where state is kept (default /var/lib/nbtd)' -r -F
complete -c nbtd -l control-socket -d 'The control socket (default /run/nbtd/control.sock)' -r -F
complete -c nbtd -l name-port -d 'The name service UDP port (default 137; change it only to test)' -r
complete -c nbtd -l datagram-port -d 'The datagram service UDP port, where the browser runs (default 138; change it only to test)' -r
complete -c nbtd -l session-port -d 'The session service TCP port, where shares and browse lists are listed (default 139; change it only to test)' -r
complete -c nbtd -l log-level -d 'Log level or filter: off, error, warn (or warning), info, debug, trace, or e.g. info,nbtd=debug; any other word is an error. Takes precedence over RUST_LOG, which takes precedence over the file\'s log_level' -r
complete -c nbtd -l os-level -d 'The browser\'s OS level in elections, 0 to 255: the highest wins (default 20, as Samba; 65 beats Samba and Windows)' -r
complete -c nbtd -l comment -d 'The comment others list next to this host (at most 48 printable ASCII characters)' -r
complete -c nbtd -l user -d 'The user to become once the ports are bound, when started as root (default nbtd, or nobody when there is no user nbtd)' -r
complete -c nbtd -l check-config -d 'Check the configuration, print it with every default filled in, and exit'
complete -c nbtd -l preferred-master -d 'Stand as preferred master: start an election at once and win ties of OS level'
complete -c nbtd -l no-local-master -d 'Never become a browser: only announce this host'
complete -c nbtd -l no-drop-privileges -d 'Keep running as root: do not become the unprivileged user'
complete -c nbtd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbtd -s V -l version -d 'Print version'
