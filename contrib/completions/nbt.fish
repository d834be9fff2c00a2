# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_nbt_global_optspecs
    string join \n json port= v/verbose h/help V/version
end

function __fish_nbt_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_nbt_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_nbt_using_subcommand
    set -l cmd (__fish_nbt_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c nbt -n "__fish_nbt_needs_command" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_needs_command" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_needs_command" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_needs_command" -s V -l version -d 'Print version'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "lookup" -d 'Look a NetBIOS name up, by broadcast on the LAN or by asking one server'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "status" -d 'Ask one host for its name table and MAC address (node status, like nbtstat -A)'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "scan" -d 'Ask every address of a range for its node status'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "shares" -d 'List a host\'s shares over SMB1 on TCP 139 (like smbclient -L HOST -N)'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "view" -d 'List a workgroup\'s machines, or the workgroups with their masters (like net view)'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "daemon" -d 'Show the local nbtd\'s state: the role, names and election history on each interface, the browse-list sizes, and counters (with the input it dropped)'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "canary" -d 'Check the LAN for NBT-NS poisoners (Responder and the like), once'
complete -c nbt -n "__fish_nbt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l iface -d 'Broadcast on this interface (default: the first usable one)' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l server -d 'Ask this server by unicast instead of broadcasting' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l wins -d 'Ask this WINS server: by unicast with RD set, which it needs to answer from its database (as nmblookup -U IP -R)' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l timeout -d 'How long to collect answers, e.g. 1.5, 2s or 800ms [default: 1.5s broadcast, 2s unicast]' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l retries -d 'Times to repeat the query after the first (250 ms apart for broadcasts, spread over the timeout for unicast), 0 to 10' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l all-ifaces -d 'Broadcast on every usable interface'
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l all -d 'Collect answers for the whole timeout, also after one for a unique name came (every late or duplicate answer)'
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand lookup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand status" -l iface -d 'Broadcast on this interface (default: the first usable one)' -r
complete -c nbt -n "__fish_nbt_using_subcommand status" -l wins -d 'Look the host\'s name up with this WINS server instead of broadcasting (a host on another subnet)' -r
complete -c nbt -n "__fish_nbt_using_subcommand status" -l timeout -d 'How long to wait for the answer, e.g. 2, 2s or 800ms' -r
complete -c nbt -n "__fish_nbt_using_subcommand status" -l retries -d 'Times to repeat the request after the first, spread over the timeout, 0 to 10' -r
complete -c nbt -n "__fish_nbt_using_subcommand status" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand status" -l all-ifaces -d 'Broadcast on every usable interface'
complete -c nbt -n "__fish_nbt_using_subcommand status" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand status" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand scan" -l rate -d 'Requests per second, 1 to 100000' -r
complete -c nbt -n "__fish_nbt_using_subcommand scan" -l retries -d 'Times to ask an address again when it did not answer, 0 to 5' -r
complete -c nbt -n "__fish_nbt_using_subcommand scan" -l timeout -d 'How long to wait for answers after the last request of each round, e.g. 1, 1s or 500ms' -r
complete -c nbt -n "__fish_nbt_using_subcommand scan" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand scan" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand scan" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l iface -d 'Broadcast on this interface (default: the first usable one)' -r
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l wins -d 'Look the host\'s name up with this WINS server instead of broadcasting (a host on another subnet)' -r
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l timeout -d 'How long the connection and each reply may take, e.g. 5, 5s or 800ms' -r
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l session-port -d 'TCP port of the session service' -r
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l all-ifaces -d 'Broadcast on every usable interface'
complete -c nbt -n "__fish_nbt_using_subcommand shares" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand shares" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand shares" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand view" -l control-socket -d 'The local nbtd\'s control socket' -r -F
complete -c nbt -n "__fish_nbt_using_subcommand view" -l iface -d 'Broadcast on this interface (default: the first usable one)' -r
complete -c nbt -n "__fish_nbt_using_subcommand view" -l timeout -d 'How long each step on the LAN waits for answers, e.g. 1, 1s or 500ms' -r
complete -c nbt -n "__fish_nbt_using_subcommand view" -l datagram-port -d 'UDP port of the datagram service (GetBackupList; change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand view" -l session-port -d 'TCP port of the session service, where the browse list is read' -r
complete -c nbt -n "__fish_nbt_using_subcommand view" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand view" -l workgroups -d 'List the workgroups and their masters instead'
complete -c nbt -n "__fish_nbt_using_subcommand view" -l lan -d 'Ask the LAN even when a local nbtd runs'
complete -c nbt -n "__fish_nbt_using_subcommand view" -l daemon -d 'Ask only the local nbtd'
complete -c nbt -n "__fish_nbt_using_subcommand view" -l all-ifaces -d 'Broadcast on every usable interface'
complete -c nbt -n "__fish_nbt_using_subcommand view" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand view" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand view" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand daemon" -l control-socket -d 'The daemon\'s control socket' -r -F
complete -c nbt -n "__fish_nbt_using_subcommand daemon" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand daemon" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand daemon" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand daemon" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand canary" -l iface -d 'Broadcast on this interface (default: the first usable one)' -r
complete -c nbt -n "__fish_nbt_using_subcommand canary" -l timeout -d 'How long to wait for answers, e.g. 1.5, 2s or 800ms' -r
complete -c nbt -n "__fish_nbt_using_subcommand canary" -l port -d 'UDP port of the name service to send to (change it only to test)' -r
complete -c nbt -n "__fish_nbt_using_subcommand canary" -l all-ifaces -d 'Broadcast on every usable interface'
complete -c nbt -n "__fish_nbt_using_subcommand canary" -l json -d 'Print JSON on stdout instead of text'
complete -c nbt -n "__fish_nbt_using_subcommand canary" -s v -l verbose -d 'Say on stderr what is sent and which replies are ignored, and why'
complete -c nbt -n "__fish_nbt_using_subcommand canary" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "lookup" -d 'Look a NetBIOS name up, by broadcast on the LAN or by asking one server'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "status" -d 'Ask one host for its name table and MAC address (node status, like nbtstat -A)'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "scan" -d 'Ask every address of a range for its node status'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "shares" -d 'List a host\'s shares over SMB1 on TCP 139 (like smbclient -L HOST -N)'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "view" -d 'List a workgroup\'s machines, or the workgroups with their masters (like net view)'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "daemon" -d 'Show the local nbtd\'s state: the role, names and election history on each interface, the browse-list sizes, and counters (with the input it dropped)'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "canary" -d 'Check the LAN for NBT-NS poisoners (Responder and the like), once'
complete -c nbt -n "__fish_nbt_using_subcommand help; and not __fish_seen_subcommand_from lookup status scan shares view daemon canary help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
