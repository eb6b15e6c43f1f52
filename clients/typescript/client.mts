// A typed client of the leaderboard API: the paths, parameters and bodies of docs/openapi.json (schema.d.ts is
// generated from it by openapi-typescript; `./scripts/test` checks it is current), over openapi-fetch.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

/** A client for `baseUrl` that sends `token` (a Supabase access token) with every request. */
export function leaderboardClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

/** The live socket of a competition: the token travels as the `bearer` subprotocol, as browsers must send it. */
export function liveSocket(baseUrl: string, token: string, competitionId: string): WebSocket {
  const url = `${baseUrl.replace(/^http/, "ws")}/api/v1/competitions/${competitionId}/live`;
  return new WebSocket(url, ["bearer", token]);
}

export type { paths, components, operations } from "./schema.js";
