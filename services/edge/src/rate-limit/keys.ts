/**
 * The Redis key of one bucket. The whole name after the prefix is the hash tag, so a bucket
 * is one key in one Redis Cluster slot; the identity is base64url, which holds no "{" or "}",
 * so no user id can end the tag early or reach another bucket.
 */
export function bucketKey(action: string, identity: string): string {
  return `ratelimit:{${action}:${Buffer.from(identity, "utf8").toString("base64url")}}`;
}
