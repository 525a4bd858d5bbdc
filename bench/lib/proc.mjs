// What the operating system says about a server process: its resident memory and the CPU time it
// has used. Worker threads live in the process, so both include them.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** Resident memory of a process in bytes (Linux /proc; `ps` elsewhere). */
export function rssBytes(pid) {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(status, "utf8"));
    if (match) return Number(match[1]) * 1024;
  }
  const kb = Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
  return kb * 1024;
}

let ticksPerSecond;
const clockTicks = () => (ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100);

/**
 * CPU time (user + system) the process has used so far, in microseconds, from utime + stime in
 * /proc/PID/stat: every thread of the process, those that ended included. Undefined where there is no
 * /proc. The kernel counts in clock ticks (10 ms at the usual 100 Hz), so sum many calls before dividing.
 */
export function cpuMicros(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces; fields 14 and 15 follow it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / clockTicks()) * 1e6;
}
