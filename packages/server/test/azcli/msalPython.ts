/**
 * Python's MSAL (Debian's python3-msal, under the system /usr/bin/python3) against the
 * server: the script below runs each case it is given and prints one JSON object of
 * outcomes. requests trusts the test CA through REQUESTS_CA_BUNDLE.
 */
import { execFile } from 'node:child_process';

/** The system Python, which has Debian's python3-msal (the first python3 on PATH may not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface MsalCase {
  name: string;
  kind: 'confidential' | 'password' | 'authority-only';
  authority: string;
  clientId?: string;
  secret?: string;
  username?: string;
  password?: string;
  scopes?: string[];
  /** After the first token: a silent call for these scopes (the cache, or the refresh token). */
  silentScopes?: string[];
}

export interface MsalOutcome {
  accessToken?: string;
  /** The error MSAL returned (`error`, `error_description`) or raised. */
  error?: string;
  /** The silent call's token, when asked. */
  silentToken?: string;
  idTokenClaims?: Record<string, unknown>;
}

const SCRIPT = String.raw`
import json, os, sys
import msal

def run(case):
    kind = case["kind"]
    try:
        if kind == "confidential":
            app = msal.ConfidentialClientApplication(case["clientId"], client_credential=case["secret"],
                                                     authority=case["authority"], validate_authority=False)
            result = app.acquire_token_for_client(case["scopes"])
        elif kind == "password":
            app = msal.PublicClientApplication(case["clientId"], authority=case["authority"], validate_authority=False)
            result = app.acquire_token_by_username_password(case["username"], case["password"], case["scopes"])
        else:
            msal.PublicClientApplication("00000000-0000-0000-0000-000000000000", authority=case["authority"], validate_authority=False)
            return {}
    except ValueError as e:
        return {"error": str(e)}
    if "error" in result:
        return {"error": "%s: %s" % (result["error"], result.get("error_description", ""))}
    out = {"accessToken": result["access_token"], "idTokenClaims": result.get("id_token_claims")}
    if case.get("silentScopes"):
        if kind == "confidential":
            silent = app.acquire_token_for_client(case["silentScopes"])
        else:
            silent = app.acquire_token_silent(case["silentScopes"], account=app.get_accounts()[0])
        out["silentToken"] = (silent or {}).get("access_token")
    return out

cases = json.loads(os.environ["MSAL_CASES"])
print(json.dumps({c["name"]: run(c) for c in cases}))
`;

/** Runs every case in one Python process; outcomes by case name. */
export function runMsal(cases: readonly MsalCase[], caFile: string): Promise<Record<string, MsalOutcome>> {
  const env = { PATH: process.env.PATH, LANG: 'C.UTF-8', REQUESTS_CA_BUNDLE: caFile, MSAL_CASES: JSON.stringify(cases) };
  return new Promise((resolve, reject) => {
    execFile(SYSTEM_PYTHON, ['-c', SCRIPT], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`python3 (msal) failed: ${stderr.trim().split('\n').pop() ?? ''}`));
      resolve(JSON.parse(stdout) as Record<string, MsalOutcome>);
    });
  });
}
