// The task's logic, free of the task library so that it can be tested
// directly: inputs to sloguard's command line, the bundled binary for the
// agent, the child's environment, and what an exit code means.

import * as fs from 'fs';
import * as path from 'path';

/** The task's inputs (task.json), as strings; "" when blank. */
export interface Inputs {
    command: string;
    config: string;
    slo: string;
    duration: string;
    interval: string;
    environment: string;
    environmentUrl: string;
    deploymentId: string;
    dryRun: string;
    overrideReason: string;
    reason: string;
    args: string;
}

const commands = ['check', 'watch', 'rollback', 'validate'];

/** Each input that becomes a flag, and the commands it applies to. */
const flags: { input: keyof Inputs; flag: string; commands: string[] }[] = [
    { input: 'config', flag: '--config', commands },
    { input: 'slo', flag: '--slo', commands: ['check', 'watch'] },
    { input: 'duration', flag: '--duration', commands: ['watch'] },
    { input: 'interval', flag: '--interval', commands: ['watch'] },
    { input: 'environment', flag: '--environment', commands: ['watch', 'rollback'] },
    { input: 'environmentUrl', flag: '--environment-url', commands: ['watch', 'rollback'] },
    { input: 'deploymentId', flag: '--deployment-id', commands: ['watch', 'rollback'] },
    { input: 'dryRun', flag: '--no-rollback', commands: ['watch', 'rollback'] },
    { input: 'overrideReason', flag: '--override', commands: ['check'] },
    { input: 'reason', flag: '--reason', commands: ['rollback'] },
];

/**
 * The command line for the inputs. Blank inputs are skipped so that the
 * CLI's defaults hold; an input that does not apply to the command is an
 * error, as in the GitHub Action. Every problem is reported at once.
 */
export function buildArgs(inputs: Inputs): string[] {
    const command = inputs.command.trim();
    if (!commands.includes(command)) {
        throw new Error(`input command: "${command}" is not a sloguard command: use check, watch, rollback or validate`);
    }
    const args = [command];
    const problems: string[] = [];
    for (const f of flags) {
        const v = (inputs[f.input] ?? '').trim();
        if (v === '' || (f.input === 'dryRun' && v.toLowerCase() === 'false')) {
            continue;
        }
        if (!f.commands.includes(command)) {
            problems.push(`input ${f.input} applies to ${f.commands.join(' and ')}, not to ${command}: remove it`);
            continue;
        }
        switch (f.input) {
            case 'slo':
                for (const name of v.split(/[,\r\n]+/)) {
                    if (name.trim() !== '') {
                        args.push(f.flag, name.trim());
                    }
                }
                break;
            case 'dryRun':
                if (v.toLowerCase() === 'true') {
                    args.push(f.flag);
                } else {
                    problems.push(`input dryRun: want true or false, got "${v}"`);
                }
                break;
            default:
                args.push(f.flag, v);
        }
    }
    try {
        args.push(...splitArgs(inputs.args ?? ''));
    } catch (e) {
        problems.push(`input args: ${(e as Error).message}`);
    }
    if (problems.length > 0) {
        throw new Error(problems.join('\n'));
    }
    return args;
}

/**
 * splitArgs splits s into words as a POSIX shell would, without expanding
 * anything (the same rules as the GitHub Action's args input).
 */
export function splitArgs(s: string): string[] {
    const words: string[] = [];
    let cur = '';
    let inWord = false;
    let quote = '';
    let escaped = false;
    for (const c of s) {
        if (escaped) {
            escaped = false;
            if (quote === '"' && !'"\\$`\n'.includes(c)) {
                cur += '\\';
            }
            if (c !== '\n') {
                cur += c;
            }
            inWord = true;
        } else if (quote === "'") {
            if (c === "'") quote = ''; else cur += c;
        } else if (c === '\\') {
            escaped = true;
        } else if (quote === '"') {
            if (c === '"') quote = ''; else cur += c;
        } else if (c === "'" || c === '"') {
            quote = c;
            inWord = true;
        } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
            if (inWord) {
                words.push(cur);
                cur = '';
                inWord = false;
            }
        } else {
            cur += c;
            inWord = true;
        }
    }
    if (quote !== '') {
        throw new Error(`unterminated ${quote} quote in ${JSON.stringify(s)}`);
    }
    if (escaped) {
        throw new Error(`${JSON.stringify(s)} ends with a backslash`);
    }
    if (inWord) {
        words.push(cur);
    }
    return words;
}

/** The agents the task bundles a binary for: bin/<dir>/sloguard[.exe]. */
export const bundled: Record<string, string> = {
    'linux/x64': 'linux-x64',
    'linux/arm64': 'linux-arm64',
    'win32/x64': 'windows-x64',
    'darwin/x64': 'darwin-x64',
    'darwin/arm64': 'darwin-arm64',
};

/**
 * binaryPath is the sloguard binary to run: the sloguardPath input when
 * given, else the one bundled for the agent's OS and architecture.
 */
export function binaryPath(binDir: string, platform: string, arch: string, override: string, exists: (p: string) => boolean = fs.existsSync): string {
    if (override.trim() !== '') {
        if (!exists(override)) {
            throw new Error(`input sloguardPath: ${override} does not exist`);
        }
        return override;
    }
    const dir = bundled[`${platform}/${arch}`];
    if (!dir) {
        throw new Error(`this task bundles sloguard for ${Object.keys(bundled).join(', ')}, not for ${platform}/${arch}: install sloguard on the agent and set sloguardPath`);
    }
    const bin = path.join(binDir, dir, platform === 'win32' ? 'sloguard.exe' : 'sloguard');
    if (!exists(bin)) {
        throw new Error(`${bin} is missing: this package was built without its binaries (make azure-task-binaries), or set sloguardPath`);
    }
    return bin;
}

/** What the task library keeps from child processes (blank ones it leaves). */
const hidden = /^(INPUT_|SECRET_|ENDPOINT_AUTH_|SECUREFILE_TICKET_|VSTS_TASKVARIABLE_)/i;

/**
 * childEnv is the binary's environment: the task's own, without what the
 * task library hides (INPUT_*, SECRET_*, ENDPOINT_AUTH_*: it removes those
 * with a value, this removes the blank rest), plus what the task hands over
 * explicitly: the GitHub token, the service connections' URL, token and
 * federated identity. Secrets the config reads itself (bearer_token_env,
 * secret_env) come from the step's env: mapping.
 */
export function childEnv(env: NodeJS.ProcessEnv, extra: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
        if (v !== undefined && !hidden.test(k)) {
            out[k] = v;
        }
    }
    for (const [k, v] of Object.entries(extra)) {
        if (v !== '') {
            out[k] = v;
        }
    }
    return out;
}

/** What sloguard's exit code means for the task (DESIGN.md's table). */
export function exitMessage(command: string, code: number): string | undefined {
    switch (code) {
        case 0:
            return undefined;
        case 1:
            return command === 'watch'
                ? 'sloguard: the canary breached its SLOs (exit 1): see the summary'
                : 'sloguard: the gate is closed (exit 1): see the summary';
        case 2:
            return 'sloguard: usage or config error, nothing was evaluated (exit 2): see the log';
        case 3:
            return 'sloguard: inconclusive: no data, too little traffic, or the backend unreachable (exit 3)';
        case 4:
            return 'sloguard: a rollback action failed (exit 4): a human must act now';
    }
    return `sloguard exited with ${code}`;
}
