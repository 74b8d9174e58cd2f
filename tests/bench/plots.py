"""The benchmark report's plots, from one run's results JSON:
docs/bench-throughput.png (MiB/s per path, every run and the median) and
docs/bench-offload.png (origin share against the number of visitors, with
the 1/N floor and the flash crowd).

    python tests/bench/plots.py <results-dir> <docs-dir>
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(results, name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def throughput_plot(t, out):
    paths = [("peercdn", "peercdn\n(SW → peer)"), ("rawWarm", "raw data channel\n(warm)"),
             ("rawCold", "raw data channel\n(cold)"), ("webtorrent", "WebTorrent")]
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (key, label) in enumerate(paths):
        ax.bar(i, t[key]["mibPerSec"], color="C%d" % i, alpha=0.8, label=label)
        runs = [r["mibPerSec"] for r in t["runs"][key]]
        ax.plot([i] * len(runs), runs, "k.", markersize=6)
        ax.annotate("%.1f" % t[key]["mibPerSec"], (i, t[key]["mibPerSec"]), ha="center", va="bottom")
    ax.set_xticks(range(len(paths)), [label for _, label in paths])
    ax.set_ylabel("MiB/s (bars: median, dots: runs)")
    ax.set_title("64 MiB between two Chromium contexts")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bench-throughput.png"), dpi=110)


def offload_plot(o, out):
    seq = o["sequential"]["visitors"]
    ks = [v["k"] for v in seq]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ks, [v["originShare"] for v in seq], "o-", label="peercdn, sequential visitors")
    chosen, total = [], 0
    for v in seq:
        total += v["fromOrigin"]
        chosen.append(total / (v["k"] * o["siteBytes"]))
    ax.plot(ks, chosen, "^-", color="C2", label="peercdn, the leaders' own origin fetches only")
    ax.plot(ks, [1 / k for k in ks], "--", color="gray", label="floor 1/N (first copy only)")
    crowd = o["crowd"]
    crowd_share = crowd["originBytes"] / crowd["deliveredBytes"]
    runs = crowd.get("runs", [])
    if len(runs) > 1:
        ax.plot([crowd["visitors"]] * len(runs), [r / crowd["visitors"] for r in runs], "s",
                color="C3", markersize=8, fillstyle="none", label="flash crowd, each run")
    ax.plot([crowd["visitors"]], [crowd_share], "s", color="C3",
            markersize=8, label="flash crowd of %d (median run)" % crowd["visitors"])
    ax.plot([crowd["visitors"]], [1.25 / crowd["visitors"]], "_", color="C3", markersize=20,
            label="flash-crowd goal (1.25 sites)")
    ax.set_xlabel("visitors")
    ax.set_ylabel("origin bytes / bytes delivered")
    top = max([1.0, crowd_share] + [r / crowd["visitors"] for r in runs] + [v["originShare"] for v in seq])
    ax.set_ylim(0, top * 1.08)
    ax.set_xticks(ks)
    ax.set_title("Origin share on the demo site (%.1f MiB)" % (o["siteBytes"] / 2**20))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bench-offload.png"), dpi=110)


def main():
    results, out = sys.argv[1], sys.argv[2]
    t = load(results, "throughput")
    if t:
        throughput_plot(t, out)
    o = load(results, "offload")
    if o:
        offload_plot(o, out)


if __name__ == "__main__":
    main()
