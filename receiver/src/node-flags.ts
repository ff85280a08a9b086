/**
 * V8 flags every launcher of the receiver passes to node (Dockerfile, the cli.js shebang, npm run
 * receiver, the local stack, the benchmarks).
 *
 * Node's default young generation (16 MB semi-spaces) collected with helper threads paused the webhook path for
 * 6-14 ms every ~0.3 s at 1,000 requests/s on 2 cores, where the helpers wait for a CPU the client or Docker holds.
 * A 4 MB young generation collected on the main thread alone keeps p99 near 4 ms; smaller spaces cost throughput,
 * larger ones tail latency and RSS. Measured by scripts/bench/receiver-throughput.ts (results in
 * scripts/bench/README.md).
 */
export const RECEIVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--single-threaded-gc'];
