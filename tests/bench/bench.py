#!/usr/bin/python3
# Helpers of tests/bench/bench.sh that would cost a process per device in
# shell (every exec is ~45 ms in User-Mode Linux), plus the report.
#
#   bench.py volumes TEMPLATE DIR N          N copies of an NTFS image, each with its own serial
#   bench.py attach FILE...                  loop devices (no autoclear), one path per line
#   bench.py detach DEV...                   LOOP_CLR_FD each
#   bench.py floor-templates PLAN.json DIR   DIR/NNN.tmpl: the tables partwrap plans (LOOP placeholder)
#   bench.py floor-prep DIR N                DIR/fNNN.header from DIR/template.header, their loops,
#                                            DIR/fNNN.table (LOOP = that loop); prints the loops
#   bench.py report SAMPLES JSON MD          best/spread per measure, targets; Markdown to stdout
import errno
import fcntl
import json
import os
import struct
import sys

LOOP_CLR_FD = 0x4C01
LOOP_CONFIGURE = 0x4C0A
LOOP_CTL_GET_FREE = 0x4C82


def attach(files):
    out = []
    ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)
    for f in files:
        ffd = os.open(f, os.O_RDWR | os.O_CLOEXEC)
        for _ in range(64):
            nr = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
            path = "/dev/loop%d" % nr
            lfd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            # struct loop_config { u32 fd, block_size; struct loop_info64 info; u64 reserved[8]; }
            info = bytearray(232)
            name = os.path.abspath(f).encode()[:63]
            info[56:56 + len(name)] = name           # lo_file_name, for losetup -l
            cfg = struct.pack("II", ffd, 512) + bytes(info) + bytes(64)
            try:
                fcntl.ioctl(lfd, LOOP_CONFIGURE, cfg)
            except OSError as e:
                os.close(lfd)
                if e.errno == errno.EBUSY:
                    continue
                raise
            os.close(lfd)
            break
        else:
            raise OSError(errno.EBUSY, "no free loop device")
        os.close(ffd)
        out.append(path)
    return out


def detach(devs):
    for d in devs:
        fd = os.open(d, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, LOOP_CLR_FD)
        except OSError as e:
            print("detach %s: %s" % (d, e), file=sys.stderr)
        os.close(fd)


def volumes(template, outdir, n):
    """Copies a small NTFS image n times (sparse), with a distinct volume
    serial (boot sector offset 0x48, and the backup boot sector in the last
    sector), so that blkid, udev and partwrap see n distinct filesystems."""
    data = open(template, "rb").read()
    size = len(data)
    blocks = [(o, data[o:o + 65536]) for o in range(0, size, 65536) if any(data[o:o + 65536])]
    for i in range(1, n + 1):
        serial = struct.pack("<Q", 0x5A17_0000_0000_0000 + i)
        path = os.path.join(outdir, "v%03d.img" % i)
        with open(path, "wb") as f:
            f.truncate(size)
            for o, b in blocks:
                f.seek(o)
                f.write(b)
            for boot in (0, size - 512):
                f.seek(boot + 0x48)
                f.write(serial)
        print(path)


def devno(path):
    st = os.stat(path)
    return "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))


def floor_templates(plan_json, d):
    """The tables `partwrap apply -n --json` plans (LOOP = the header's loop),
    with the volume as MAJ:MIN, as partwrap's live tables have it."""
    plan = json.load(open(plan_json))
    for i, disk in enumerate(plan["disks"], 1):
        lines = []
        for line in disk["table"]:
            f = line.split()
            if f[3] != "LOOP":
                f[3] = devno(f[3])
            lines.append(" ".join(f))
        open(os.path.join(d, "%03d.tmpl" % i), "w").write("\n".join(lines) + "\n")


def floor_prep(d, n):
    """Header files (copies of one partwrap header), their loops, and the
    tables over those loops: everything the floor's `dmsetup create` needs."""
    hdr = open(os.path.join(d, "template.header"), "rb").read()
    files = []
    for i in range(1, n + 1):
        f = os.path.join(d, "f%03d.header" % i)
        open(f, "wb").write(hdr)
        files.append(f)
    loops = attach(files)
    for i, l in enumerate(loops, 1):
        tmpl = open(os.path.join(d, "%03d.tmpl" % i)).read()
        open(os.path.join(d, "f%03d.table" % i), "w").write(tmpl.replace("LOOP", devno(l)))
        print(l)


# Report -----------------------------------------------------------------------

def load(samples):
    """Lines: 'sample KEY VALUE' (a measurement, repeated across rounds) or
    'fact KEY VALUE' (one observation, JSON value)."""
    s, facts = {}, {}
    for line in open(samples):
        parts = line.split(None, 2)
        if len(parts) != 3:
            continue
        kind, key, val = parts
        if kind == "sample":
            s.setdefault(key, []).append(float(val))
        elif kind == "fact":
            facts[key] = json.loads(val)
    return s, facts


def stat(vals, higher_better=False):
    if not vals:
        return None
    best = max(vals) if higher_better else min(vals)
    worst = min(vals) if higher_better else max(vals)
    spread = abs(worst - best) / best * 100 if best else 0.0
    return {"best": best, "worst": worst, "spread_pct": round(spread, 1), "runs": len(vals), "samples": vals}


def fmt_s(v):
    return "—" if v is None else ("%.3f" % v if v < 10 else "%.2f" % v)


def report(samples, json_path, md_path):
    s, facts = load(samples)
    res = {"date": facts.get("date"), "machine": facts.get("machine"), "rounds": facts.get("rounds"),
           "provisioning": {}, "io": {}, "scale": {}, "warm_apply_ioctls": facts.get("warm_ioctls"),
           "targets": []}
    md = []
    ns = sorted({int(k.split(".")[1]) for k in s if k.startswith("prov.")})
    for n in ns:
        row = {}
        for c in ("floor", "apply", "recipe", "warm", "check"):
            d = {m: stat(s.get("prov.%d.%s.%s" % (n, c, m), []))
                 for m in ("settled", "returned", "uevents_per_disk", "rss_kib", "udev_waits")}
            row[c] = {m: v for m, v in d.items() if v}
        res["provisioning"][str(n)] = row

    def best(n, c, m="settled"):
        st = res["provisioning"].get(str(n), {}).get(c, {}).get(m)
        return st["best"] if st else None

    def worst(n, c, m):
        st = res["provisioning"].get(str(n), {}).get(c, {}).get(m)
        return st["worst"] if st else None

    md.append("**Provisioning N disks**, seconds until `udevadm settle` returns (devices ready, udev idle), "
              "best of %s interleaved runs (%s at N > 32) ± spread (worst/best − 1); in brackets, when the "
              "command itself returned." % (facts.get("rounds", "?"), facts.get("rounds_large", "?")))
    md.append("")
    md.append("| N | floor: N × `dmsetup create` | partwrap `apply`, cold | recipe: dd + losetup + dmsetup + sgdisk "
              "| apply ÷ floor | recipe ÷ apply | warm `apply` | warm ÷ cold | `check` | udev waits per apply "
              "| uevents per disk: floor / apply / recipe |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in ns:
        row = res["provisioning"][str(n)]

        def cell(c, m="settled"):
            st = row[c].get(m)
            if not st:
                return "not run"
            t = "%s ±%.0f%%" % (fmt_s(st["best"]), st["spread_pct"])
            r = row[c].get("returned")
            if m == "settled" and r:
                t += " (%s)" % fmt_s(r["best"])
            return t

        def ratio(a, b, ma="settled", mb="settled"):
            x, y = best(n, a, ma), best(n, b, mb)
            return x / y if x is not None and y else None
        row["ratios"] = {"apply_over_floor": ratio("apply", "floor"), "recipe_over_apply": ratio("recipe", "apply"),
                         "warm_over_cold": ratio("warm", "apply", "returned", "settled")}
        af, ra, wc = row["ratios"].values()
        ev = "/".join("%.1f" % best(n, c, "uevents_per_disk") if best(n, c, "uevents_per_disk") is not None
                      else "—" for c in ("floor", "apply", "recipe"))
        waits = row["apply"].get("udev_waits")
        md.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, cell("floor"), cell("apply"), cell("recipe"),
            "%.2f×" % af if af else "—", "%.1f×" % ra if ra else "—",
            cell("warm", "returned"), "%.1f%%" % (wc * 100) if wc else "—", cell("check", "returned"),
            "%d" % waits["worst"] if waits else "—", ev))
    md.append("")

    # I/O
    tnames = [("raw", "raw volume"), ("part", "partition 1 (`losetup -P` over the disk)"),
              ("dm", "the disk at partition 1's offset"), ("nbd", "nbdkit partitioning over nbd, partition 1")]
    md.append("**I/O through the disk** (fio, direct, psync, 1 job; %s MiB volume; %s s a run; best of %s "
              "interleaved runs ± spread)" % (facts.get("io_mib", "?"), facts.get("io_runtime", "?"),
                                               facts.get("rounds_io", "?")))
    md.append("")
    md.append("| pattern | " + " | ".join(t[1] for t in tnames) + " | partition ÷ raw | disk ÷ raw "
              "| partition ÷ nbdkit |")
    md.append("|---|" + "---|" * (len(tnames) + 3))
    pats = [("seqread", "seq read 1 MiB", "MB/s"), ("seqwrite", "seq write 1 MiB", "MB/s"),
            ("randread", "rand read 4 KiB", "IOPS")]
    for p, label, unit in pats:
        row = {t: stat(s.get("io.%s.%s" % (p, t), []), higher_better=True) for t, _ in tnames}
        if not row["raw"]:
            continue

        def c(t):
            st = row[t]
            return "—" if not st else "%.0f %s ±%.0f%%" % (st["best"], unit, st["spread_pct"])

        def rr(a, b):
            return row[a]["best"] / row[b]["best"] if row[a] and row[b] and row[b]["best"] else None
        row = {k: v for k, v in row.items() if v}
        row["unit"] = unit
        row["ratios"] = {"part_over_raw": rr("part", "raw"), "disk_over_raw": rr("dm", "raw"),
                         "part_over_nbd": rr("part", "nbd")}
        res["io"][p] = row
        md.append("| %s | %s | %s |" % (label, " | ".join(c(t) for t, _ in tnames),
                                        " | ".join("%.3f" % v if v else "—" for v in row["ratios"].values())))
    md.append("")

    # Scale
    md.append("**Scale**, one disk: seconds, best of %s interleaved runs ± spread"
              % facts.get("rounds_scale", "?"))
    md.append("")
    md.append("| volume | cold `apply` (settled) | warm `apply` | `check` | system calls apply / warm / check "
              "| header file | peak RSS apply / warm / check |")
    md.append("|---|---|---|---|---|---|---|")
    for v in ("64M", "30T"):
        row = {}
        for m in ("apply", "warm", "check"):
            row[m] = {k: st for k in ("settled", "returned", "rss_kib")
                      if (st := stat(s.get("scale.%s.%s.%s" % (v, m, k), [])))}
        row["header_bytes"] = facts.get("header_bytes_%s" % v)
        row["syscalls"] = {m: facts.get("syscalls_%s_%s" % (v, m)) for m in ("apply", "warm", "check")}
        res["scale"][v] = row

        def c(m, k):
            st = row[m].get(k)
            return "—" if not st else "%s ±%.0f%%" % (fmt_s(st["best"]), st["spread_pct"])
        md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            {"64M": "64 MiB", "30T": "30 TiB (sparse)"}[v], c("apply", "settled"), c("warm", "returned"),
            c("check", "returned"), " / ".join(str(row["syscalls"][m]) for m in ("apply", "warm", "check")),
            "%s B" % row["header_bytes"] if row["header_bytes"] else "—",
            " / ".join("%d KiB" % row[m]["rss_kib"]["worst"] if row[m].get("rss_kib") else "—"
                       for m in ("apply", "warm", "check"))))
    md.append("")

    # System calls per disk: the slope between N = 1 and N = 33
    sysc = {}
    for c in ("apply", "warm", "check"):
        a, b = facts.get("sys_1_%s" % c), facts.get("sys_33_%s" % c)
        if a is not None and b is not None:
            sysc[c] = {"n1": a, "n33": b, "per_disk": (b - a) / 32.0, "top_n33": facts.get("sys_top_%s" % c)}
    res["syscalls_per_disk"] = sysc
    if sysc:
        md.append("**System calls** (`strace -c -f`, all threads and children): totals at N = 1 and N = 33, "
                  "and per disk, (N33 − N1) / 32")
        md.append("")
        md.append("| command | N = 1 | N = 33 | per disk |")
        md.append("|---|---|---|---|")
        for c, label in (("apply", "cold `apply`"), ("warm", "warm `apply`"), ("check", "`check`")):
            if c in sysc:
                x = sysc[c]
                md.append("| %s | %d | %d | %.1f |" % (label, x["n1"], x["n33"], x["per_disk"]))
        md.append("")
        for c in ("warm", "check"):
            if c in sysc and sysc[c]["top_n33"]:
                md.append("Most frequent system calls, %s of 33 disks: %s." % (
                    c, ", ".join("`%s` %s" % kv for kv in sysc[c]["top_n33"].items())))
        md.append("")

    # Peak RSS at the smallest and largest N
    if ns:
        lo, hi = ns[0], ns[-1]
        md.append("**Peak RSS** (KiB, `ru_maxrss` from wait4, worst of the runs)")
        md.append("")
        md.append("| N | cold `apply` | warm `apply` | `check` |")
        md.append("|---|---|---|---|")
        for n in sorted({lo, hi}):
            md.append("| %d | %s |" % (n, " | ".join(
                "%d" % worst(n, c, "rss_kib") if worst(n, c, "rss_kib") is not None else "—"
                for c in ("apply", "warm", "check"))))
        md.append("")

    # Peak RSS of every partwrap run
    rss = {}
    for k, vals in s.items():
        if k.endswith(".rss_kib"):
            rss[k[:-len(".rss_kib")]] = int(max(vals))
    res["peak_rss_kib"] = rss
    if rss:
        top = sorted(rss.items(), key=lambda kv: -kv[1])
        md.append("Peak RSS of partwrap (KiB, from wait4): " + ", ".join("%s %d" % kv for kv in top) + ".")
        md.append("")

    # Targets
    def target(name, ok, value):
        res["targets"].append({"target": name, "met": bool(ok), "value": value})

    p32 = res["provisioning"].get("32", {}).get("ratios", {})
    v = p32.get("apply_over_floor")
    target("cold apply of 32 ≤ 1.1× the 32 bare dmsetup create", v is not None and v <= 1.1,
           None if v is None else "%.2f×" % v)
    v = p32.get("recipe_over_apply")
    target("cold apply of 32 ≥ 5× faster than the hand-made recipe", v is not None and v >= 5,
           None if v is None else "%.1f×" % v)
    w = {n: int(worst(n, "apply", "udev_waits")) for n in ns if worst(n, "apply", "udev_waits") is not None}
    target("one udev wait per apply, whatever N", bool(w) and all(x == 1 for x in w.values()),
           ", ".join("N=%s: %s" % kv for kv in w.items()) or None)
    v = p32.get("warm_over_cold")
    target("warm apply of 32 ≤ 2% of cold", v is not None and v <= 0.02, None if v is None else "%.1f%%" % (v * 100))
    bad = facts.get("warm_state_ioctls")
    wu = {n: worst(n, "warm", "uevents_per_disk") for n in ns}
    target("warm apply: no udev-triggering ioctl (strace, N=%s) and no uevent (every N)" % facts.get("warm_ioctls_n"),
           bad == [] and all(x == 0 for x in wu.values()),
           "state-changing ioctls: %s; uevents: %s" % (", ".join(bad) if bad else "none",
                                                       "0" if all(x == 0 for x in wu.values()) else wu))
    for p, label, _ in pats:
        r = res["io"].get(p, {}).get("ratios", {})
        v = r.get("part_over_raw")
        target("I/O %s through the partition ≥ 0.97× raw" % label, v is not None and v >= 0.97,
               None if v is None else "%.3f× (the disk at its offset %.3f×; vs nbdkit %.1f×)" % (
                   v, r.get("disk_over_raw") or 0, r.get("part_over_nbd") or 0))
    for m, k in (("apply", "settled"), ("check", "returned")):
        a, b = res["scale"]["64M"][m].get(k), res["scale"]["30T"][m].get(k)
        r = b["best"] / a["best"] if a and b else None
        sa, sb = res["scale"]["64M"]["syscalls"].get(m), res["scale"]["30T"]["syscalls"].get(m)
        note = ""
        if sa is not None and sb is not None:
            note = "; system calls %s vs %s%s" % (sb, sa, " (the same work: the difference is timing noise)"
                                                   if sa == sb and r and r > 1.1 else "")
        target("%s on 30 TiB within 1.1× of 64 MiB" % m, r is not None and r <= 1.1,
               None if r is None else "%.2f×%s" % (r, note))
    hb = res["scale"]["30T"].get("header_bytes")
    target("GPT header at 1 MiB alignment = 1 MiB + 16.5 KiB (1065472 B)", hb == 1065472,
           None if hb is None else "%s B" % hb)
    p128 = res["provisioning"].get("128", {}).get("ratios", {})
    v = p128.get("apply_over_floor")
    target("cold apply of 128 ≤ 0.8× the 128 bare dmsetup create", v is not None and v <= 0.8,
           None if v is None else "%.2f×" % v)
    for c, limit in (("warm", 40), ("check", 200)):
        x = sysc.get(c)
        target("%s: ≤ %d system calls a disk (strace -c, N = 1 → 33)" % ("warm apply" if c == "warm" else c, limit),
               x is not None and x["per_disk"] <= limit, None if x is None else "%.1f" % x["per_disk"])
    nmax = ns[-1] if ns else None
    for cs, limit in ((("apply", "warm"), 4096), (("check",), 8192)):
        vals = [worst(nmax, c, "rss_kib") for c in cs] if nmax else []
        vals = [x for x in vals if x is not None]
        target("peak RSS of %s ≤ %d MiB at N = %s" % (" and ".join("warm apply" if c == "warm" else c for c in cs),
                                                       limit // 1024, nmax),
               bool(vals) and max(vals) <= limit, "%d KiB" % max(vals) if vals else None)

    md.append("**Targets**")
    md.append("")
    md.append("| target | status | measured |")
    md.append("|---|---|---|")
    for t in res["targets"]:
        md.append("| %s | %s | %s |" % (t["target"], "met" if t["met"] else "**MISSED**", t["value"]))
    md.append("")
    text = "\n".join(md)
    with open(json_path, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write(text + "\n")
    print(text)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "attach":
        print("\n".join(attach(args)))
    elif cmd == "detach":
        detach(args)
    elif cmd == "volumes":
        volumes(args[0], args[1], int(args[2]))
    elif cmd == "floor-templates":
        floor_templates(args[0], args[1])
    elif cmd == "floor-prep":
        floor_prep(args[0], int(args[1]))
    elif cmd == "report":
        report(*args)
    else:
        sys.exit("bench.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
