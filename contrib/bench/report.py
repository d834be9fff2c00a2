#!/usr/bin/env python3
"""Turns the results of contrib/bench/run.sh (JSON lines) into BENCHMARKS.md on stdout.

Usage: report.py RESULTS.jsonl COMMAND COMMIT
"""

import json
import os
import platform
import statistics
import sys
import time


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({model}){mem}, Linux {platform.release()}"


def fmt(n):
    return f"{n:,.0f}"


def main():
    path, command, commit = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = lambda section: [r for r in rows if r["section"] == section]
    meta = {r["key"]: r["value"] for r in by("meta")}
    out = []
    p = out.append
    p("# Benchmarks")
    p("")
    p("nbtd against Samba's nmbd and a bare responder (one blocking `recv_from`, a fixed answer,")
    p("one `send_to`: the most any server can do with one socket call each way), on one machine,")
    p("in one run, with one load generator (`nbt bench load`). Each server and the generator run")
    p("in their own network namespace on one bridge. Produced by `contrib/bench/run.sh`.")
    p("")
    p(f"- Command: `{command}` (commit `{commit}`, {time.strftime('%Y-%m-%d', time.gmtime())})")
    p(f"- Machine: {machine()}")
    if "loadavg_start" in meta:
        p(f"- Load average at the start and the end: {meta['loadavg_start']} / {meta.get('loadavg_end', '?')}")
    if meta.get("shared"):
        p(f"- {meta['shared']}")
    p(f"- Samba: {meta.get('samba', '?')}")
    p("")

    load = by("load")
    results = {}
    for r in load:
        res = r["result"]
        results.setdefault((res["kind"], res["window"], r["server"]), []).append(res)

    def median_run(runs):
        runs = sorted(runs, key=lambda x: x["per_second"])
        return runs[len(runs) // 2]

    verdicts, capacity = [], []
    for kind, title in (("query", "Unicast name queries"), ("status", "Node status queries")):
        p(f"## {title}")
        p("")
        p("Median of the runs (by answered/s); latency from send to answer. CPU is the server's, in % of one core.")
        p("")
        p("| window | server | answered/s | p50 µs | p99 µs | lost | server CPU | generator CPU |")
        p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for window in (1, 16, 64):
            for server in ("responder", "nbtd", "nmbd"):
                runs = results.get((kind, window, server))
                if not runs:
                    continue
                m = median_run(runs)
                cpu = m.get("server_cpu_percent")
                gen = m.get("generator_cpu_percent")
                p(f"| {window} | {server} | {fmt(m['per_second'])} | {m['p50_us']} | {m['p99_us']} | "
                  f"{m['lost']} | {'' if cpu is None else f'{cpu:.0f}%'} | {'' if gen is None else f'{gen:.0f}%'} |")
        p("")
        # Capacity: the most a server answers, at whichever window gets it there.
        best = {}
        for server in ("responder", "nbtd", "nmbd"):
            medians = [median_run(results[(kind, w, server)]) for w in (1, 16, 64)
                       if results.get((kind, w, server))]
            if medians:
                best[server] = max(medians, key=lambda m: m["per_second"])
        if len(best) == 3:
            n, s, b = best["nbtd"], best["nmbd"], best["responder"]
            vs_nmbd = n["per_second"] / max(s["per_second"], 1)
            vs_bare = n["per_second"] / max(b["per_second"], 1)
            at = lambda m: f"{fmt(m['per_second'])}/s at window {m['window']}"
            capacity.append((f"{title}, capacity: nbtd ≥ 3× nmbd", vs_nmbd >= 3,
                             f"{vs_nmbd:.2f}× (nbtd {at(n)}, nmbd {at(s)})"))
            capacity.append((f"{title}, capacity: nbtd ≥ 0.85× the bare responder", vs_bare >= 0.85,
                             f"{vs_bare:.2f}× (nbtd {at(n)}, responder {at(b)})"))
        for window in (1, 16, 64):
            get = lambda s: results.get((kind, window, s)) and median_run(results[(kind, window, s)])
            n, s, b = get("nbtd"), get("nmbd"), get("responder")
            if not (n and s and b):
                continue
            vs_nmbd = n["per_second"] / max(s["per_second"], 1)
            vs_bare = n["per_second"] / max(b["per_second"], 1)
            bare_vs_nmbd = b["per_second"] / max(s["per_second"], 1)
            verdicts.append((f"{title}, window {window}: nbtd ≥ 3× nmbd", vs_nmbd >= 3,
                             f"{vs_nmbd:.2f}× ({fmt(n['per_second'])} vs {fmt(s['per_second'])}/s;"
                             f" the bare responder: {bare_vs_nmbd:.2f}×)"))
            verdicts.append((f"{title}, window {window}: nbtd ≥ 0.85× the bare responder", vs_bare >= 0.85,
                             f"{vs_bare:.2f}× ({fmt(n['per_second'])} vs {fmt(b['per_second'])}/s)"))
            verdicts.append((f"{title}, window {window}: nbtd's p99 below nmbd's", n["p99_us"] < s["p99_us"],
                             f"{n['p99_us']} µs vs {s['p99_us']} µs"))

    p("## Browse list of 10,000 servers")
    p("")
    p("Resident memory (VmRSS) before 10,000 HostAnnouncements from one generator host, and 12 s")
    p("after the last (for nbtd, the entries its list gained; for nmbd, the announcements sent).")
    p("The peak is VmHWM, the most the process ever had resident, against the same start.")
    p("")
    p("| server | entries added | RSS before | RSS after | bytes per entry | peak RSS | peak bytes per entry |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in by("browse_rss"):
        per = (r["rss_kb_after"] - r["rss_kb_before"]) * 1024 / max(r["entries"], 1)
        hwm = r.get("hwm_kb_after")
        peak = "–" if hwm is None else f"{fmt(hwm)} KiB"
        peak_per = "–" if hwm is None else fmt((hwm - r["rss_kb_before"]) * 1024 / max(r["entries"], 1))
        p(f"| {r['server']} | {fmt(r['entries'])} | {fmt(r['rss_kb_before'])} KiB | "
          f"{fmt(r['rss_kb_after'])} KiB | {fmt(per)} | {peak} | {peak_per} |")
        if r["server"] == "nbtd":
            verdicts.append(("Browse list: at most 200 bytes per entry (RSS)", per <= 200, f"{per:.0f} B"))
    exact = by("entry_size")
    if exact:
        e = exact[0]
        p("")
        p(f"Counted exactly (every byte the list allocates for 10,000 servers, by a counting allocator in"
          f" `protocol/tests/browse_memory.rs`): **{e['ascending']} bytes per server** announced in"
          f" ascending order of names, {e['scattered']} in scattered order.")
        verdicts.append(("Browse list: at most 200 bytes per entry (counted exactly)", e["ascending"] <= 200,
                         f"{e['ascending']} B"))
    p("")
    p("")
    p("RSS counts more than the list: what the daemon allocates while the announcements come in,")
    p("and what the allocator keeps of what was freed. Two copies of the list used to stay that way")
    p("(402 bytes per entry): the save to the state file (every 10 s while the list changes) built")
    p("the file whole in memory, and the master copied its workgroup's entries at every")
    p("announcement to choose backups (which showed as 141 bytes per entry right after the")
    p("announcements and 284 a minute later). A save now writes each entry as it converts it,")
    p("straight into the file, and hands the freed pages back to the kernel (`malloc_trim`); the")
    p("backups are chosen in passes over the list. The peak still counts the save's copy of the")
    p("list (by then also nmbd's 10,000, which nbtd heard by broadcast).")
    lists = [r["result"] for r in by("browse_list")]
    if lists:
        secs = statistics.median(x["seconds"] for x in lists)
        p(f"Listing them over SMB1 (NetServerEnum2, continued with NetServerEnum3) from nbtd:"
          f" {lists[0]['servers']:,} servers in {lists[0]['rounds']} RAP calls, median"
          f" {secs * 1000:.0f} ms of {len(lists)} runs (connection and logon included).")
        p("")
    after_lists = by("browse_list_rss")
    nbtd_rss = next((r for r in by("browse_rss") if r["server"] == "nbtd"), None)
    if after_lists and nbtd_rss:
        how = {"smb": "listed 3 times over SMB1 (NetServerEnum2)",
               "control": "listed 3 times through the control socket (`nbt view --daemon --json`)"}
        p("What stays resident after the list is read (2 s after the last listing). Each listing")
        p("copies the list: the session service's copy is shared by the connections of one second,")
        p("then let go; the control socket's is freed once its answer is sent. Both hand the freed")
        p("pages back to the kernel (before, each kept a whole copy resident: about 470 bytes per")
        p("entry more).")
        p("")
        p("| after | RSS before | RSS after | peak RSS | bytes per entry, all told |")
        p("| --- | ---: | ---: | ---: | ---: |")
        for r in after_lists:
            per = (r["rss_kb_after"] - nbtd_rss["rss_kb_before"]) * 1024 / max(nbtd_rss["entries"], 1)
            p(f"| {how.get(r.get('via'), r.get('via', '?'))} | {fmt(r['rss_kb_before'])} KiB | "
              f"{fmt(r['rss_kb_after'])} KiB | {fmt(r['hwm_kb_after'])} KiB | {fmt(per)} |")
        last = after_lists[-1]
        per = (last["rss_kb_after"] - nbtd_rss["rss_kb_before"]) * 1024 / max(nbtd_rss["entries"], 1)
        verdicts.append(("Browse list: at most 200 bytes per entry (RSS, after it was listed)", per <= 200,
                         f"{per:.0f} B"))
        p("")

    p("## Idle")
    p("")
    p("CPU time and wake-ups (context switches, all threads) while nothing is sent to the server:")
    p("each is measured alone, the other servers stopped (SIGSTOP), after the load runs. Both are")
    p("the master browser of their workgroup: what remains are the protocol's own timers (the")
    p("announcements of MS-BRWS 3.2.6 and 3.3.6: every 1, 2, 4, 8, then 12 minutes, and")
    p("the browse list's expiry).")
    p("")
    p("| server | seconds | CPU time | wake-ups | wake-ups per minute |")
    p("| --- | ---: | ---: | ---: | ---: |")
    for r in by("idle"):
        per_min = r["switches"] * 60 / r["seconds"]
        if r["server"] == "nbtd":
            verdicts.append(("Idle: no wake-ups beyond the protocol's own timers", r["switches"] == 0,
                             f"{r['switches']} wake-ups and {r['cpu_ticks'] * 10} ms of CPU in {r['seconds']} s"))
        p(f"| {r['server']} | {r['seconds']} | {r['cpu_ticks'] * 10} ms | {r['switches']} | {per_min:.1f} |")
    p("")

    p("## Elections")
    p("")
    p("Three hosts of one workgroup started at once; the time until exactly one says it is the")
    p("master (nbtd: `nbt daemon --json`; nmbd: until a broadcast query for WORKGROUP<1d> is answered).")
    p("")
    p("| server | seconds to a master |")
    p("| --- | --- |")
    for server in ("nbtd", "nmbd"):
        s = [r["seconds"] for r in by("election") if r["server"] == server]
        if s:
            text = ", ".join("none" if x is None else f"{x:.1f}" for x in s)
            p(f"| {server} | {text} |")
    p("")

    p("## How nbtd answers fast")
    p("")
    p("- A fast-path thread per interface address reads the unicast name-service socket with a")
    p("  blocking `recvmmsg` (every request already queued, up to 32 a call; one when the load is")
    p("  light, like the bare responder's `recv_from`). Plain name queries and node status requests for")
    p("  its active names (and node status for `*`) are answered from answers the name engine computed")
    p("  beforehand (`AnswerTable`): the request's question is compared byte for byte, the answer copied")
    p("  and its transaction ID patched; the batch's answers leave with one `sendmmsg`. No parsing, no")
    p("  allocation. The fuzz target `fast_answers` checks the same equivalence as the property test.")
    p("- Everything else goes to the main loop and the engine, as before: the table declines packets")
    p("  from our own addresses, from outside the subnet (unless `answer_remote_subnets`), other")
    p("  flags, counts or scopes, differently cased names, names registering or in conflict.")
    p("  `protocol/tests/fast_answers.rs` checks with arbitrary packets and engine states that every")
    p("  fast answer is byte for byte the engine's, and that the counters agree.")
    p("- The main loop republishes the tables whenever the engine's names change, and the name")
    p("  service has its own queue ahead of the datagram service's.")
    p("")
    ceil, below = [], True
    for kind, title in (("query", "name queries"), ("status", "node status queries")):
        b, s_ = results.get((kind, 1, "responder")), results.get((kind, 1, "nmbd"))
        if b and s_:
            ratio = median_run(b)['per_second'] / median_run(s_)['per_second']
            below = below and ratio < 3
            ceil.append(f"{ratio:.2f}× nmbd for {title}")
    if ceil:
        p("## Window 1")
        p("")
        p("With one request in flight the rate is one over the round trip, and most of the round trip")
        p("is the same for every server: the kernel's path through two namespaces and a bridge, and two")
        p("wake-ups (the server's and the generator's), each longer when the CPUs were idle. The bare")
        p(f"responder, the ceiling, reaches {' and '.join(ceil)} in this run" +
          (", so no server can reach 3× nmbd at window 1 on this machine; there nbtd is to be"
           " measured against the ceiling." if below else "."))
        p("How much of the round trip the wake-ups are shows with the generator polling its")
        p("socket instead of sleeping (`nbt bench load --busy-poll`, `LOAD_ARGS=--busy-poll`): by hand on")
        p("2026-11-22, name queries at window 1 went from 57,215 / 63,101 / 47,329 answered/s")
        p("(responder / nbtd / nmbd) to 94,764 / 81,291 / 74,562. The ratio to nmbd depends on the")
        p("machine's load as much as on the server: on the same machine, busy with other jobs (load")
        p("average about 5), an earlier run had nbtd at 2.05× and the responder at 2.16× nmbd.")
        p("A server that polls its own socket after each answer shaves its own wake-up. Tried by hand")
        p("on 2026-11-22 (nbtd's fast path polling 50 µs after each batch, an experiment not kept):")
        p("90,991 name queries/s against nmbd's 42,294 (2.15×) and 93,871 node status requests/s")
        p("against 32,314 (2.91×), the responder at 63,767 and 64,116, with nbtd using a whole core")
        p("while the load lasted (42% without). Even that stays under 3× for name queries, and nbtd")
        p("does not poll: it would burn CPU on the hosts it serves for microseconds no client notices.")
        p("")
    p("## Targets")
    p("")
    p("The issue states the throughput targets as capacities: \"nmbd answers about 40k/s. The bare")
    p("responder reaches about 150k/s. nbtd must reach at least 3× nmbd and at least 0.85× the bare")
    p("responder.\" The first rows compare the most each server answers at any window. The p99")
    p("target is per window (\"below nmbd's at every window\").")
    p("The rows after them hold each window to the throughput targets too, which is stricter than")
    p("the issue: at window 1 the bare responder itself stays under 3× nmbd (see Window 1).")
    p("")
    p("| target | held | measured |")
    p("| --- | --- | --- |")
    for name, ok, measured in capacity + verdicts:
        p(f"| {name} | {'yes' if ok else '**no**'} | {measured} |")
    p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
