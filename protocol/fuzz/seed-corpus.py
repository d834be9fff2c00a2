#!/usr/bin/env python3
"""Writes a seed corpus for each fuzz target from the Samba captures in ../tests/vectors.

Usage: python3 seed-corpus.py   (from protocol/fuzz; writes corpus/<target>/)
"""
import hashlib, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "tests", "vectors")


def frames(path):
    d = open(path, "rb").read()
    i = 0
    while i + 12 <= len(d):
        bt, bl = struct.unpack_from("<II", d, i)
        if bt == 6:
            cap = struct.unpack_from("<I", d, i + 20)[0]
            yield d[i + 28:i + 28 + cap]
        i += bl


def l4(frame):
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    seg = ip[ihl:struct.unpack(">H", ip[2:4])[0]]
    sport, dport = struct.unpack(">HH", seg[:4])
    if ip[9] == 17:
        return "udp", sport, dport, seg[8:]
    return "tcp", sport, dport, seg[(seg[12] >> 4) * 4:]


def nbss_frames(stream):
    i = 0
    while i + 4 <= len(stream):
        n = ((stream[i + 1] & 1) << 16) | struct.unpack(">H", stream[i + 2:i + 4])[0]
        yield stream[i:i + 4 + n]
        i += 4 + n


def rap_params(smb):
    """The parameter block of a TRANSACTION request (a RAP call), or None."""
    if len(smb) < 33 or smb[4] != 0x25 or smb[9] & 0x80 or smb[32] < 14:
        return None
    count, offset = struct.unpack_from("<HH", smb, 33 + 18)
    return smb[offset:offset + count] if 0 < offset and offset + count <= len(smb) else None


def main():
    seeds = {t: set() for t in ["names", "name_service", "datagram", "session", "smb", "browser",
                                "rap", "smb_server", "smb_client"]}
    tcp = {}
    for f in sorted(os.listdir(VECTORS)):
        for fr in frames(os.path.join(VECTORS, f)):
            proto, sp, dp, payload = l4(fr)
            if not payload:
                continue
            if proto == "udp" and 137 in (sp, dp):
                seeds["name_service"].add(payload)
                seeds["names"].add(payload[12:])
            elif proto == "udp" and 138 in (sp, dp):
                seeds["datagram"].add(payload)
                k = payload.find(b"\\MAILSLOT\\BROWSE\x00")
                if k >= 0:
                    seeds["browser"].add(payload[k + 17:])
                smb = payload.find(b"\xffSMB")
                if smb >= 0:
                    seeds["smb"].add(payload[smb:])
            elif proto == "tcp":
                tcp.setdefault((sp, dp), bytearray()).extend(payload)
    for (sport, dport), stream in tcp.items():
        nb = list(nbss_frames(bytes(stream)))
        for fr in nb:
            if len(fr) < 4096:
                seeds["session"].add(fr)
                if fr[4:8] == b"\xffSMB":
                    seeds["smb"].add(fr[4:])
                    rap = rap_params(fr[4:])
                    if rap:
                        seeds["rap"].add(rap)
        if dport == 139:
            # smb_server input: a mode byte, then client frames (roundtrip::smb_server).
            # Mode 0: the whole client stream; modes 3 and 7: after our own handshake, the
            # client's frames after its four handshake frames, with our UID and TID patched in.
            seeds["smb_server"].add(bytes([0]) + b"".join(nb))
            for mode in (3, 7):
                seeds["smb_server"].add(bytes([mode]) + b"".join(nb[4:]))
        if sport == 139:
            # smb_client input: a mode byte, then the server's frames (roundtrip::smb_client).
            # Mode 1 patches our MIDs in, so the replies reach the listing; mode 3 lists shares.
            for mode in (0, 1, 3):
                seeds["smb_client"].add(bytes([mode]) + b"".join(nb))
    for t, items in seeds.items():
        d = os.path.join(HERE, "corpus", t)
        os.makedirs(d, exist_ok=True)
        for s in items:
            open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb").write(s)
        print(f"{t}: {len(items)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
