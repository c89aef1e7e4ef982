// The task end to end under MockTestRunner, offline: Node is the running
// one (nodePath), the binary a fake (tests/fixtures/fake-sloguard.ts).

import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';

const fixtures = path.join(__dirname, 'fixtures');
const fake = path.join(fixtures, 'fake-sloguard.js');
const taskJson = path.join(__dirname, '..', '..', 'task.json');
fs.chmodSync(fake, 0o755);

interface Run {
    tr: MockTestRunner;
    seen: { argv: string[]; cwd: string; githubTokenSha256: string; hidden: string[]; promToken: string; tfBuild: string } | undefined;
}

async function runTask(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<Run> {
    const saved = { ...process.env };
    process.env['FIXTURE_INPUTS'] = JSON.stringify({ sloguardPath: fake, ...inputs });
    process.env['TF_BUILD'] = 'True';
    process.env['AGENT_TEMPDIRECTORY'] = os.tmpdir();
    Object.assign(process.env, env);
    try {
        const tr = new MockTestRunner(path.join(fixtures, 'run.js'), taskJson);
        tr.nodePath = process.execPath; // never download a Node
        await tr.runAsync();
        const line = tr.stdout.split('\n').find((l) => l.startsWith('FAKE '));
        return { tr, seen: line ? JSON.parse(line.slice(5)) : undefined };
    } finally {
        process.env = saved;
    }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function completeLine(tr: MockTestRunner): string {
    return tr.stdout.split('\n').filter((l) => l.startsWith('##vso[task.complete')).pop() ?? '';
}

describe('SloGuard@1', () => {
    it('passes the inputs as flags, and the token explicitly, to a binary that sees no INPUT_* or secrets', async () => {
        const wd = fs.mkdtempSync(path.join(os.tmpdir(), 'sloguard-task-'));
        const token = 'ghs_plantedT0ken5ecret';
        const { tr, seen } = await runTask(
            {
                command: 'watch', config: 'deploy/sloguard.yaml', slo: 'checkout-availability, checkout-latency\nsearch',
                duration: '10m', interval: '', dryRun: 'true', githubToken: token, args: '--log-level debug --since "2026-11-23T17:00:00Z"',
                workingDirectory: wd,
            },
            { PROM_TOKEN: 'mapped-with-env' },
        );
        assert.ok(tr.succeeded, tr.stdout + tr.stderr);
        assert.ok(seen, 'the binary did not run:\n' + tr.stdout);
        assert.deepStrictEqual(seen.argv, [
            'watch', '--config', 'deploy/sloguard.yaml', '--slo', 'checkout-availability', '--slo', 'checkout-latency', '--slo', 'search',
            '--duration', '10m', '--no-rollback', '--log-level', 'debug', '--since', '2026-11-23T17:00:00Z',
        ]);
        assert.strictEqual(fs.realpathSync(seen.cwd), fs.realpathSync(wd));
        assert.strictEqual(seen.githubTokenSha256, sha256(token));
        assert.deepStrictEqual(seen.hidden, []);
        assert.strictEqual(seen.promToken, sha256('mapped-with-env'), 'a secret mapped with env: reaches the binary');
        assert.strictEqual(seen.tfBuild, 'True');
        assert.strictEqual(tr.invokedToolCount, 1);
        assert.ok(tr.stdout.includes('##vso[task.setvariable variable=decision;isoutput=true]pass'));
        // The token is registered as a secret before the binary runs, and
        // shows nowhere else.
        const lines = (tr.stdout + tr.stderr).split('\n').filter((l) => l.includes(token));
        assert.deepStrictEqual(lines, ['##vso[task.setsecret]' + token]);
        assert.ok(tr.stdout.indexOf('##vso[task.setsecret]') < tr.stdout.indexOf('FAKE '));
    });

    it('leaves blank inputs out, so that the CLI defaults hold', async () => {
        const { tr, seen } = await runTask({ command: 'check', config: '', slo: '', overrideReason: '', dryRun: 'false', args: '' });
        assert.ok(tr.succeeded, tr.stdout);
        assert.deepStrictEqual(seen?.argv, ['check']);
        assert.strictEqual(seen?.githubTokenSha256, '');
    });

    const failures: [string, string, string, string][] = [
        ['a closed gate', 'check', '1', 'sloguard: the gate is closed (exit 1): see the summary'],
        ['a breached canary', 'watch', '1', 'sloguard: the canary breached its SLOs (exit 1): see the summary'],
        ['a config error', 'check', '2', 'sloguard: usage or config error, nothing was evaluated (exit 2): see the log'],
        ['an inconclusive run', 'watch', '3', 'sloguard: inconclusive: no data, too little traffic, or the backend unreachable (exit 3)'],
        ['a failed rollback action', 'rollback', '4', 'sloguard: a rollback action failed (exit 4): a human must act now'],
    ];
    for (const [what, command, code, message] of failures) {
        it(`fails the task on ${what}`, async () => {
            const inputs: Record<string, string> = { command };
            if (command === 'rollback') {
                inputs['reason'] = 'p99 doubled';
            }
            const { tr, seen } = await runTask(inputs, { FAKE_EXIT: code, FAKE_DECISION: 'fail' });
            assert.ok(seen, tr.stdout);
            assert.ok(tr.failed);
            assert.strictEqual(completeLine(tr), `##vso[task.complete result=Failed;]${message}`);
        });
    }

    it('refuses inputs that do not apply, before running anything', async () => {
        const { tr, seen } = await runTask({ command: 'check', duration: '10m', dryRun: 'true' });
        assert.ok(tr.failed);
        assert.strictEqual(seen, undefined);
        assert.strictEqual(tr.invokedToolCount, 0);
        assert.strictEqual(
            completeLine(tr),
            '##vso[task.complete result=Failed;]input duration applies to watch, not to check: remove it%0Ainput dryRun applies to watch and rollback, not to check: remove it',
        );
    });

    it('says which binary is missing', async () => {
        const { tr } = await runTask({ command: 'check', sloguardPath: '/nonexistent/sloguard' });
        assert.ok(tr.failed);
        assert.strictEqual(completeLine(tr), '##vso[task.complete result=Failed;]input sloguardPath: /nonexistent/sloguard does not exist');
    });
});
