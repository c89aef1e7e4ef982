// Service connections, free of the task library so that they can be tested
// directly: what each connection hands the sloguard binary, and the OIDC
// token of an Azure Resource Manager connection with workload identity
// federation.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** A generic service connection: a server URL, a user name and a password. */
export interface GenericConnection {
    url: string;
    username: string;
    password: string;
}

/**
 * metricsEnv is what a generic connection gives the binary: the backend of
 * config files that name none (SLOGUARD_PROMETHEUS_URL, the variable of
 * --prometheus-url) and the bearer token of every prometheus provider with
 * no credentials of its own (SLOGUARD_PROMETHEUS_TOKEN). The token is the
 * connection's password; a user name, if any, is ignored.
 */
export function metricsEnv(conn: GenericConnection): Record<string, string> {
    const env: Record<string, string> = {};
    if (conn.url.trim() === '') {
        throw new Error('input metricsConnection: the service connection has no server URL');
    }
    env['SLOGUARD_PROMETHEUS_URL'] = conn.url.trim();
    if (conn.password !== '') {
        env['SLOGUARD_PROMETHEUS_TOKEN'] = conn.password;
    }
    return env;
}

/** An Azure Resource Manager connection, as the task library gives it. */
export interface ArmConnection {
    id: string;
    scheme: string;
    tenantId: string;
    clientId: string;
    authorityHost: string; // the environment's Entra ID host, "" for the public cloud
}

/** What the task needs of the agent to ask for an OIDC token. */
export interface OidcRequest {
    requestUri: string;  // System.OidcRequestUri
    accessToken: string; // System.AccessToken (the SystemVssConnection's)
}

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/**
 * requestOidcToken asks Azure DevOps for an ID token of the service
 * connection, as Azure documents it for scripts (System.OidcRequestUri):
 * POST <uri>?api-version=7.1&serviceConnectionId=<id> with the job's
 * access token as bearer; the answer is {"oidcToken": "..."}.
 */
export async function requestOidcToken(conn: ArmConnection, req: OidcRequest, fetchFn: Fetch): Promise<string> {
    if (conn.scheme.toLowerCase() !== 'workloadidentityfederation') {
        throw new Error(`input azureSubscription: the service connection uses ${conn.scheme || 'an unknown'} authentication: sloguard takes an Azure Resource Manager connection with workload identity federation (no secret to store or rotate)`);
    }
    if (conn.tenantId === '' || conn.clientId === '') {
        throw new Error('input azureSubscription: the service connection names no tenant or service principal (tenantid, serviceprincipalid)');
    }
    if (req.requestUri === '' || req.accessToken === '') {
        throw new Error('input azureSubscription: System.OidcRequestUri or the job access token is missing: this agent cannot issue OIDC tokens (Azure DevOps Services, or Server 2022.2 and later, are needed)');
    }
    const url = `${req.requestUri}${req.requestUri.includes('?') ? '&' : '?'}api-version=7.1&serviceConnectionId=${encodeURIComponent(conn.id)}`;
    const resp = await fetchFn(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${req.accessToken}`, 'Content-Type': 'application/json' },
        body: '',
    });
    const body = await resp.text();
    if (!resp.ok) {
        throw new Error(`input azureSubscription: Azure DevOps refused an OIDC token for the service connection (HTTP ${resp.status}): ${body.slice(0, 300)}`);
    }
    let token: unknown;
    try {
        token = (JSON.parse(body) as { oidcToken?: unknown }).oidcToken;
    } catch {
        token = undefined;
    }
    if (typeof token !== 'string' || token === '') {
        throw new Error('input azureSubscription: the OIDC token answer holds no oidcToken');
    }
    return token;
}

/**
 * workloadIdentityEnv writes the token to a file only this user can read
 * and returns the variables azidentity's workload identity credential reads
 * (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID, and
 * AZURE_AUTHORITY_HOST outside the public cloud), with the file to remove
 * once the binary is done.
 */
export function workloadIdentityEnv(conn: ArmConnection, token: string, tempDir: string): { env: Record<string, string>; file: string } {
    const file = path.join(tempDir, `sloguard-oidc-${crypto.randomBytes(8).toString('hex')}.jwt`);
    fs.writeFileSync(file, token, { mode: 0o600 });
    const env: Record<string, string> = {
        AZURE_FEDERATED_TOKEN_FILE: file,
        AZURE_CLIENT_ID: conn.clientId,
        AZURE_TENANT_ID: conn.tenantId,
    };
    if (conn.authorityHost !== '') {
        env['AZURE_AUTHORITY_HOST'] = conn.authorityHost;
    }
    return { env, file };
}
