// SloGuard@1: runs the sloguard binary bundled for the agent with the
// task's inputs as flags. The binary speaks the agent's logging commands
// itself (TF_BUILD=True): output variables, issues, the summary, the result.

import * as fs from 'fs';
import * as path from 'path';
import * as im from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';

import { Inputs, binaryPath, buildArgs, childEnv, exitMessage } from './sloguard';

function input(name: string): string {
    return tl.getInput(name, false) ?? '';
}

// secretInput reads an input as getInput does, from the task library's
// vault, without getInput's debug line, which would print the value before
// it could be masked.
function secretInput(name: string): string {
    return im._vault.retrieveSecret('INPUT_' + im._getVariableKey(name)) ?? '';
}

async function run(): Promise<void> {
    try {
        const inputs: Inputs = {
            command: input('command') || 'check',
            config: input('config'),
            slo: input('slo'),
            duration: input('duration'),
            interval: input('interval'),
            environment: input('environment'),
            deploymentId: input('deploymentId'),
            dryRun: input('dryRun'),
            overrideReason: input('overrideReason'),
            reason: input('reason'),
            args: input('args'),
        };
        // The task library hides inputs and secrets from child processes:
        // the token goes to the binary explicitly, masked first.
        const token = secretInput('githubToken').trim();
        if (token !== '') {
            tl.setSecret(token);
        }
        const args = buildArgs(inputs);
        const bin = binaryPath(path.join(__dirname, '..', '..', 'bin'), process.platform, process.arch, input('sloguardPath'));
        if (process.platform !== 'win32') {
            try {
                fs.chmodSync(bin, 0o755); // a .vsix does not keep the executable bit
            } catch {
                // not ours to change: exec says what is wrong
            }
        }
        const cwd = input('workingDirectory') || tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
        const code = await tl.execAsync(bin, args, { cwd, env: childEnv(process.env, token), ignoreReturnCode: true });
        const msg = exitMessage(inputs.command, code);
        if (msg !== undefined) {
            tl.setResult(tl.TaskResult.Failed, msg);
        }
    } catch (err) {
        tl.setResult(tl.TaskResult.Failed, (err as Error).message);
    }
}

void run();
