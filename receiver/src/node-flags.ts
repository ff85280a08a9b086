/**
 * V8 flags every launcher of the receiver passes to node (Dockerfile, the cli.js shebang, npm run
 * receiver, the local stack, the benchmarks).
 *
 * A 1 MB young generation: the webhook path allocates a few tens of KB per request and keeps almost
 * nothing, so small, frequent scavenges replace the default 16 MB ones that copied megabytes of
 * in-flight objects and paused for 6-14 ms on a 2-core machine. Measured by
 * scripts/bench/receiver-throughput.ts (README, section "The receiver", "Benchmark").
 */
export const RECEIVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
