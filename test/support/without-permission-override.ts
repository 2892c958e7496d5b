/**
 * Runs a child that file permissions bind even when the tests run as root, who may write anywhere.
 * Switching to `nobody` would do that too, but `nobody` cannot read a checkout under a folder only its
 * owner may enter (a `mktemp -d` folder, a 0700 home), so the child could not load dist/ or
 * node_modules. Instead the child keeps root's uid, and so its access to the checkout, and loses the
 * capabilities that override permission bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) from
 * its bounding set with util-linux's setpriv: a folder without write permission refuses it like any
 * user. As any other user the command runs unchanged.
 */

/** The command and arguments that start `command args` bound by file permissions. */
export function withoutPermissionOverride(command: string, args: readonly string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command, args: [...args] };
  const dropped = '-dac_override,-dac_read_search,-fowner';
  return { command: 'setpriv', args: [`--bounding-set=${dropped}`, `--inh-caps=${dropped}`, '--', command, ...args] };
}
