import { readFileSync } from 'fs';

/**
 * CPU seconds (user + system) this process used, plus those of the child processes it has waited for
 * (and theirs, transitively), from /proc/self/stat; 0 where there is no /proc. On a machine shared
 * with other work, wall time measures the neighbours too; CPU time does not.
 */
export function cpuSeconds(): number {
  try {
    // The command name (field 2) may hold spaces; count from its closing parenthesis.
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100; // utime stime cutime cstime, USER_HZ = 100
  } catch {
    return 0;
  }
}
