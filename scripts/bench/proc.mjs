/**
 * CPU and memory of a process tree, read from /proc (Linux only).
 *
 * A tree is a root pid plus every process whose parent chain reaches it.
 * This kernel has no /proc/<pid>/task/<tid>/children, so membership is
 * learnt from the ppid field of /proc/<pid>/stat: each pid is classified
 * once, when it first appears in /proc (a process's parent only changes by
 * being re-parented to init, which never makes it a descendant).
 *
 * CPU is exact, not sampled: every live member contributes
 * utime + stime + cutime + cstime, and when a member exits its whole time
 * (its own plus that of the children it reaped) moves into its parent's
 * cutime/cstime. So the sum over live members only ever grows, even for
 * processes that lived less than one sampling interval. The root's own
 * utime + stime gives the split "server process" vs "helper processes".
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

function getconf(name, fallback) {
  try {
    const v = Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim());
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

export const CLK_TCK = getconf("CLK_TCK", 100);
export const PAGE_SIZE = getconf("PAGESIZE", 4096);

/** Parses /proc/<pid>/stat; undefined when the process is gone. Times in clock ticks. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself contain spaces or parentheses.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state): field k is f[k - 3].
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const cutime = Number(f[13]);
  const cstime = Number(f[14]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    ownTicks: utime + stime,
    utime,
    stime,
    ticks: utime + stime + cutime + cstime,
    starttime: Number(f[19]),
    rssBytes: Number(f[21]) * PAGE_SIZE,
  };
}

/** Per-thread CPU ticks of one process, summed by thread name (main thread, libuv pool, V8 workers...). */
export function threadTicksByName(pid) {
  const by = {};
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return by;
  }
  for (const tid of tids) {
    const s = readStat(`${pid}/task/${tid}`);
    if (!s) continue;
    const name = Number(tid) === pid ? "main thread" : s.comm;
    if (!by[name]) by[name] = { user: 0, sys: 0 };
    const t = by[name];
    t.user += s.utime;
    t.sys += s.stime;
  }
  return by;
}

/**
 * I/O syscall counts (/proc/<pid>/io: syscr, syscw) and context switches
 * (summed over the process's threads) of one process: how often it wakes up.
 */
export function readWakeups(pid) {
  const out = { readSyscalls: 0, writeSyscalls: 0, voluntarySwitches: 0, involuntarySwitches: 0 };
  try {
    const io = readFileSync(`/proc/${pid}/io`, "latin1");
    out.readSyscalls = Number(/^syscr:\s+(\d+)/m.exec(io)?.[1] ?? 0);
    out.writeSyscalls = Number(/^syscw:\s+(\d+)/m.exec(io)?.[1] ?? 0);
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, "latin1");
      out.voluntarySwitches += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
      out.involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    }
  } catch {}
  return out;
}

/** Proportional set size (shared pages split between the processes mapping them), bytes. */
export function readPss(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "latin1"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
export function readMachineTicks() {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

function listPids() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/**
 * Shared view of /proc for several trees: one directory listing per sample,
 * each pid's parent read once.
 */
export class ProcTable {
  /** pid -> { ppid, starttime } for every pid seen (members and strangers). */
  #known = new Map();
  #pids = [];

  refresh() {
    this.#pids = listPids();
    const live = new Set(this.#pids);
    for (const pid of this.#known.keys()) if (!live.has(pid)) this.#known.delete(pid);
    for (const pid of this.#pids) {
      if (this.#known.has(pid)) continue;
      const s = readStat(pid);
      if (s) this.#known.set(pid, { ppid: s.ppid, starttime: s.starttime });
    }
  }

  get pids() {
    return this.#pids;
  }

  info(pid) {
    return this.#known.get(pid);
  }
}

/**
 * One tree's totals over time. `sample()` after `table.refresh()`; members
 * are added as they appear and dropped when they exit.
 */
export class ProcessTree {
  /** pid -> starttime of members (pid reuse guard). */
  #members = new Map();
  /** Pids known not to belong (decided once, at first sight). */
  #strangers = new Set();
  /** pid -> last ticks seen, and comm, for the per-command split of live members. */
  #last = new Map();
  /** Ticks of members that exited, by command name, as last seen (at most one interval short). */
  #goneByComm = new Map();
  #rootOwnTicks = 0;
  #rootUser = 0;
  #rootSys = 0;
  #rootCommName = "";

  constructor(table, rootPid, { pss = false } = {}) {
    this.table = table;
    this.rootPid = rootPid;
    this.pss = pss;
    const info = table.info(rootPid) ?? readStat(rootPid);
    if (info) this.#members.set(rootPid, info.starttime);
    this.peakRssBytes = 0;
    this.peakPssBytes = 0;
    this.peakProcs = 0;
    /** { t, ticks, rootOwnTicks, rssBytes, procs } per sample. */
    this.samples = [];
  }

  #isMember(pid, depth = 0) {
    if (this.#members.has(pid)) return true;
    if (this.#strangers.has(pid) || depth > 64) return false;
    const info = this.table.info(pid);
    if (!info || info.ppid <= 1) return false;
    return this.#isMember(info.ppid, depth + 1);
  }

  /** Reads every member's stat now. Returns the sample (also kept in `samples`). */
  sample(withPss = false) {
    for (const pid of this.table.pids) {
      if (this.#members.has(pid) || this.#strangers.has(pid)) continue;
      const info = this.table.info(pid);
      if (!info) continue;
      if (this.#isMember(pid)) this.#members.set(pid, info.starttime);
      else this.#strangers.add(pid);
    }
    let ticks = 0;
    let rss = 0;
    let pss = 0;
    let procs = 0;
    for (const [pid, starttime] of this.#members) {
      const s = readStat(pid);
      if (!s || s.starttime !== starttime) {
        this.#members.delete(pid);
        const last = this.#last.get(pid);
        if (last) {
          this.#goneByComm.set(last.comm, (this.#goneByComm.get(last.comm) ?? 0) + last.ownTicks);
          this.#last.delete(pid);
        }
        continue;
      }
      ticks += s.ticks;
      if (s.state !== "Z") {
        rss += s.rssBytes;
        procs++;
        if (withPss && this.pss) pss += readPss(pid);
      }
      if (pid === this.rootPid) {
        this.#rootOwnTicks = s.ownTicks;
        this.#rootUser = s.utime;
        this.#rootSys = s.stime;
        this.#rootCommName = s.comm;
      } else {
        this.#last.set(pid, { comm: s.comm, ownTicks: s.ownTicks });
      }
    }
    for (const pid of this.#strangers) if (!this.table.info(pid)) this.#strangers.delete(pid);
    const sample = { t: Date.now(), ticks, rootOwnTicks: this.#rootOwnTicks, rootUser: this.#rootUser, rootSys: this.#rootSys, rssBytes: rss, procs };
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
    if (pss > this.peakPssBytes) this.peakPssBytes = pss;
    if (procs > this.peakProcs) this.peakProcs = procs;
    this.samples.push(sample);
    return sample;
  }

  /** Own CPU ticks by command name of the descendants (live + exited, as last seen). */
  helperTicksByComm() {
    const by = new Map(this.#goneByComm);
    for (const { comm, ownTicks } of this.#last.values()) by.set(comm, (by.get(comm) ?? 0) + ownTicks);
    return Object.fromEntries(by);
  }

  get rootComm() {
    return this.#rootCommName;
  }
}

/**
 * Samples several trees and the machine every `intervalMs` until stopped.
 * PSS (costlier to read) every `pssEvery` samples.
 */
export class Sampler {
  #timer;
  #n = 0;

  constructor({ intervalMs = 250, pssEvery = 4 } = {}) {
    this.table = new ProcTable();
    this.intervalMs = intervalMs;
    this.pssEvery = pssEvery;
    /** name -> ProcessTree */
    this.trees = new Map();
    /** { t, busy, total } */
    this.machine = [];
  }

  track(name, pid, opts) {
    this.table.refresh();
    const tree = new ProcessTree(this.table, pid, opts);
    this.trees.set(name, tree);
    tree.sample();
    return tree;
  }

  untrack(name) {
    this.trees.delete(name);
  }

  sampleNow() {
    this.table.refresh();
    const withPss = this.#n++ % this.pssEvery === 0;
    for (const tree of this.trees.values()) tree.sample(withPss);
    this.machine.push({ t: Date.now(), ...readMachineTicks() });
  }

  start() {
    this.sampleNow();
    this.#timer = setInterval(() => this.sampleNow(), this.intervalMs);
  }

  stop() {
    clearInterval(this.#timer);
    this.sampleNow();
  }
}

/** Sample of `samples` nearest to time t (ms). */
function at(samples, t) {
  let best = samples[0];
  for (const s of samples) if (Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best;
}

/** CPU seconds of a tree between two times (nearest samples). */
export function cpuSecondsBetween(tree, t0, t1) {
  const a = at(tree.samples, t0);
  const b = at(tree.samples, t1);
  return {
    total: (b.ticks - a.ticks) / CLK_TCK,
    root: (b.rootOwnTicks - a.rootOwnTicks) / CLK_TCK,
    rootUser: (b.rootUser - a.rootUser) / CLK_TCK,
    rootSys: (b.rootSys - a.rootSys) / CLK_TCK,
    wallSec: (b.t - a.t) / 1000,
  };
}

/** Machine busy fraction (0..1 of all cores) between two times. */
export function machineBusyBetween(machine, t0, t1) {
  const a = at(machine, t0);
  const b = at(machine, t1);
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : 0;
}

/** Highest CPU use (in cores) of a tree over any window of `windowMs`. */
export function peakCores(tree, windowMs = 2000) {
  const s = tree.samples;
  let peak = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    while (j < i && s[i].t - s[j].t > windowMs) j++;
    const dt = (s[i].t - s[j].t) / 1000;
    if (dt >= windowMs / 2000) peak = Math.max(peak, (s[i].ticks - s[j].ticks) / CLK_TCK / dt);
  }
  return peak;
}
