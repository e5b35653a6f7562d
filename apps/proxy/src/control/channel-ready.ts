import { connectivityState } from "@grpc/grpc-js";
import type { Client } from "@grpc/grpc-js";

type Channel = ReturnType<Client["getChannel"]>;

/**
 * Makes one connection attempt on a fresh channel: resolves true once it is READY, false as soon
 * as the attempt fails (TRANSIENT_FAILURE), the channel is closed, or `timeoutMs` passed.
 * The caller's backoff paces the attempts, not grpc-js's own reconnect timer.
 */
export function channelReady(channel: Channel, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true); // true: an IDLE channel starts connecting
      if (state === connectivityState.READY) return resolve(true);
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) return resolve(false);
      channel.watchConnectivityState(state, deadline, (err) => (err ? resolve(false) : check()));
    };
    check();
  });
}
