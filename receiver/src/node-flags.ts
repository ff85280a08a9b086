/**
 * V8 flags every launcher of the receiver and the gateway passes to node; defined here only. The local stack, the
 * test harness and the benchmarks import them; the cli.js shebang, `npm run receiver` and the Dockerfile's
 * ENTRYPOINT get them written by scripts/node-flags.ts (`npx tsx scripts/node-flags.ts`; a unit test fails while
 * one of them differs).
 *
 * Node's default young generation (16 MB semi-spaces) collected with helper threads paused the webhook path for
 * 6-14 ms every ~0.3 s at 1,000 requests/s on 2 cores, where the helpers wait for a CPU the client or Docker holds.
 * A 4 MB young generation collected on the main thread alone keeps p99 near 4 ms; smaller spaces cost throughput,
 * larger ones tail latency and RSS. Measured by scripts/bench/receiver-throughput.ts (results in
 * scripts/bench/README.md).
 *
 * V8's memory reducer starts full collections and shrinks the heap when allocation slows down, which for the
 * gateway is every pause between bursts of requests: the next burst then pays for it. Without it the gateway's
 * CPU per request in bursts fell by 12-17 % and its time to first chunk came nearer to a bare Node proxy's, for
 * about 4 MB more RSS at 100 streams (scripts/bench/gateway-bench.ts).
 */
export const RECEIVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--single-threaded-gc', '--no-memory-reducer'];
