#!/usr/bin/env python3
"""kill -9 of the controlling process at every step, then one command: is anything left?

For each step (create, start, exec, cp, stop, snapshot, restore, clone, fork) and each trial, a `smartvm` CLI process runs the
step on a VM of its own and is killed with SIGKILL at a random moment of it:
- for create and start, the moment is drawn from the VMM's appearance to the step's end (the
  window that matters: before it, there is no VMM to orphan);
- for exec, cp and stop, where the VMM already runs, it is drawn from the command's start to
  its end; so it is for snapshot (a save of the VM), fork (two children of it), restore (a VM
  from a snapshot made in setup) and clone (a VM from a template made once, beforehand).
Each window is measured by running the step once, unkilled, first.

Then one command, `smartvm rm -f NAME...` (which also reaps what dead processes left; for fork,
NAME and every VM `ls` shows: children that were already handed over), must leave nothing
behind:
- no process labelled with or naming the home;
- no VM directory;
- no TAP device `sv*`;
- no nft chain or set of the VM;
- no address lease;
- no half snapshot or template (`.partial-*`), no fork's template, no memory file.

Prints a table. Run it on a host with no other SmartVM VMs (the network checks are host-wide):

    bench/kill9.py [--trials 20] [--steps create,start,exec,cp,stop,snapshot,restore,clone,fork] [--no-net]
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "smartvm-cli", "target", "smartvm-cli.jar")
STEPS = ["create", "start", "exec", "cp", "stop", "snapshot", "restore", "clone", "fork"]


def java():
    """A JDK >= 21, found as bin/smartvm finds one (bin/smartvm --version builds the jar too)."""
    out = subprocess.run(["bash", "-c", f"source {ROOT}/bin/lib/common.sh && ensure_jdk >/dev/null && echo $JAVA_HOME"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(out, "bin", "java")


class Cli:
    def __init__(self, home, images, net):
        self.java = java()
        self.env = dict(os.environ, SMARTVM_HOME=home, SMARTVM_IMAGES=images)
        self.net = ["--net"] if net else []

    def argv(self, *args):
        return [self.java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", JAR, *args]

    def run(self, *args, check=True):
        r = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True, timeout=300)
        if check and r.returncode != 0:
            raise RuntimeError(f"smartvm {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def start(self, *args):
        return subprocess.Popen(self.argv(*args), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def live_pids():
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                yield int(name)
        except OSError:
            pass


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def processes_of(home):
    """Live processes labelled with a VM directory under home, or naming home on their command line."""
    needle = home.encode()
    mine = os.getpid()
    return [pid for pid in live_pids() if pid != mine and
            (needle in read(f"/proc/{pid}/environ") or needle in read(f"/proc/{pid}/cmdline"))]


def qemu_of(home):
    needle = home.encode()
    for pid in live_pids():
        cmd = read(f"/proc/{pid}/cmdline")
        if b"qemu-system" in cmd and needle in cmd:
            return pid
    return None


def leftovers(home):
    left = []
    pids = processes_of(home)
    if pids:
        left.append(f"processes {pids}")
    vms = os.path.join(home, "vms")
    dirs = [d for d in os.listdir(vms) if os.path.isdir(os.path.join(vms, d))] if os.path.isdir(vms) else []
    if dirs:
        left.append(f"VM directories {dirs}")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout if shutil.which("ip") else ""
    taps = [l.split(":")[1].strip().split("@")[0] for l in links.splitlines() if l.split(":")[1].strip().startswith("sv")]
    if taps:
        left.append(f"TAPs {taps}")
    if shutil.which("nft"):
        rules = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
        chains = sorted({w for w in rules.split() if w.startswith("vm-")})
        if chains:
            left.append(f"nft {chains}")
    for kind in ("snapshots", "templates"):
        d = os.path.join(home, kind)
        half = [e for e in os.listdir(d) if e.startswith(".partial-") or "-fork-" in e] if os.path.isdir(d) else []
        if half:
            left.append(f"{kind} {half}")
    leases = read("/run/smartvm/net/leases.json")
    if leases:
        try:
            held = json.loads(leases)
            held = held.get("byAddress", held) if isinstance(held, dict) else held
            if held:
                left.append(f"leases {held}")
        except ValueError:
            pass
    return left


def setup(cli, step, name, payload):
    """Brings the VM of a trial to where the step starts."""
    if step in ("create", "clone"):
        return
    if step == "restore":
        cli.run("create", *cli.net, "--name", name + "-src")
        cli.run("snapshot", "create", name + "-src", "--name", name + "-snap")
        cli.run("rm", "-f", name + "-src")
        return
    cli.run("create", *cli.net, "--name", name)
    if step == "start":
        cli.run("stop", name)


def step_argv(cli, step, name, payload):
    return {
        "create": ("create", *cli.net, "--name", name),
        "start": ("start", name),
        "exec": ("exec", name, "--", "sh", "-c", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1"),
        "cp": ("cp", payload, f"{name}:/tmp/payload"),
        "stop": ("stop", name),
        "snapshot": ("snapshot", "create", name, "--name", name + "-snap"),
        "restore": ("snapshot", "restore", name + "-snap", "--name", name),
        "clone": ("create", "--template", "kill9", "--name", name),
        "fork": ("fork", name, "-n", "2"),
    }[step]


def cleanup(cli, step, name):
    """The one command after a trial (a whole snapshot a trial made is no leftover: removed after)."""
    names = [name]
    if step == "fork":  # children handed over before the kill live on, as they should: removed too
        names += [vm["name"] for vm in json.loads(cli.run("ls", "--json", check=False).stdout or "[]") if vm["name"] != name]
    cli.run("rm", "-f", *names, check=False)
    if step in ("snapshot", "restore"):
        cli.run("snapshot", "rm", name + "-snap", check=False)


def run_step(cli, step, name, payload, kill_after=None):
    """Runs the step; with kill_after (seconds) kills it that long after its window opens.
    Returns (window length, killed, the VM's record state at the kill)."""
    t0 = time.monotonic()
    p = cli.start(*step_argv(cli, step, name, payload))
    opened = t0
    if step in ("create", "start"):
        while qemu_of(cli.env["SMARTVM_HOME"]) is None:
            if p.poll() is not None:
                raise RuntimeError(f"{step} ended before its VMM appeared (exit {p.returncode})")
            time.sleep(0.001)
        opened = time.monotonic()
    if kill_after is None:
        p.wait(timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"{step} exited {p.returncode}")
        return time.monotonic() - opened, False
    while time.monotonic() < opened + kill_after and p.poll() is None:
        time.sleep(0.0005)
    killed = p.poll() is None
    if killed:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            killed = False  # it ended meanwhile
    p.wait()
    return time.monotonic() - opened, killed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--no-net", action="store_true", help="VMs without a network (the default is --net as root)")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    steps = args.steps.split(",")
    for s in steps:
        if s not in STEPS:
            ap.error(f"unknown step {s}; steps: {','.join(STEPS)}")
    rng = random.Random(args.seed)
    subprocess.run([os.path.join(ROOT, "bin", "smartvm"), "--version"], check=True, stdout=subprocess.DEVNULL)
    net = not args.no_net and os.geteuid() == 0
    home = tempfile.mkdtemp(prefix="svk", dir="/tmp")
    images = os.environ.get("SMARTVM_IMAGES") or os.path.expanduser("~/.local/share/smartvm/images")
    cli = Cli(home, images, net)
    payload = os.path.join(home, "payload.bin")
    with open(payload, "wb") as f:
        f.write(os.urandom(32 << 20))
    before = leftovers(home)
    if before:
        sys.exit(f"the host is not clean before the run: {before}")
    rows = []
    try:
        if "clone" in steps:
            cli.run("template", "create", "kill9", *cli.net, "--prepare", "true")
        for step in steps:
            setup(cli, step, "calib", payload)
            window, _ = run_step(cli, step, "calib", payload)
            cleanup(cli, step, "calib")
            bad, killed_in_step, notes = 0, 0, []
            for i in range(args.trials):
                name = f"k{i}"
                setup(cli, step, name, payload)
                at = rng.uniform(0, window)
                _, killed = run_step(cli, step, name, payload, kill_after=at)
                killed_in_step += killed
                cleanup(cli, step, name)  # the one command
                left = leftovers(home)
                if left:
                    bad += 1
                    notes.append(f"trial {i} (kill at {at * 1000:.0f} ms): {'; '.join(left)}")
                    subprocess.run(["pkill", "-9", "-f", home])
                    cli.run("rm", "-f", name, check=False)
            rows.append((step, args.trials, killed_in_step, window, bad, notes))
            print(f"{step}: {bad} of {args.trials} trials left something", file=sys.stderr, flush=True)
    finally:
        for vm in json.loads(cli.run("ls", "--json", check=False).stdout or "[]"):
            cli.run("rm", "-f", vm["name"], check=False)
        cli.run("template", "rm", "kill9", check=False)
        shutil.rmtree(home, ignore_errors=True)
    print(f"\nkill -9 of the controlling process ({'with' if net else 'without'} --net; "
          f"{os.cpu_count()} cores; kill moment uniform over the window)\n")
    print("| step | trials | killed mid-step | window (ms) | trials with leftovers |")
    print("|---|---|---|---|---|")
    for step, trials, killed, window, bad, _ in rows:
        print(f"| {step} | {trials} | {killed} | {window * 1000:.0f} | {bad} |")
    for *_, notes in rows:
        for n in notes:
            print("  " + n)
    sys.exit(1 if any(r[4] for r in rows) else 0)


if __name__ == "__main__":
    main()
