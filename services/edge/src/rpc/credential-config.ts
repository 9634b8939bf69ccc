import { envVar, parseServiceKey, readEnv, readSecret, type ServiceKey } from "@chat/runtime";

/** The key the edge signs its calls to the message service with (SERVICE_AUTH_KEY*). */
export interface ServiceCredentialConfig {
  readonly key: ServiceKey;
  /** The file it came from, re-read before each new assertion, so the key rotates without a restart. */
  readonly file: string | undefined;
}

export const serviceCredentialEnvShape = {
  SERVICE_AUTH_KEY: envVar
    .optionalText()
    .describe("kid=base64url-secret the edge signs its calls to the message service with; one of the service's SERVICE_AUTH_KEYS"),
  SERVICE_AUTH_KEY_FILE: envVar.optionalText().describe("file holding SERVICE_AUTH_KEY (a mounted Secret), re-read while running"),
};

/** The edge's signing key; undefined when none is set (calls carry no credential). */
export function loadServiceCredentialConfig(env: NodeJS.ProcessEnv = process.env): ServiceCredentialConfig | undefined {
  const vars = readEnv(serviceCredentialEnvShape, env);
  const text = readSecret("SERVICE_AUTH_KEY", vars.SERVICE_AUTH_KEY, vars.SERVICE_AUTH_KEY_FILE);
  if (text === undefined) return undefined;
  const variable = vars.SERVICE_AUTH_KEY_FILE === undefined ? "SERVICE_AUTH_KEY" : `SERVICE_AUTH_KEY_FILE=${JSON.stringify(vars.SERVICE_AUTH_KEY_FILE)}`;
  return { key: parseServiceKey(text, variable), file: vars.SERVICE_AUTH_KEY_FILE };
}
