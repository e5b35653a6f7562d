import * as grpc from "@grpc/grpc-js";

/**
 * A real grpc-js server and client for gRPC through the mesh, without a .proto: one unary
 * method `/test.Greeter/SayHello` whose messages are raw bytes (UTF-8 text here).
 */
export const SAY_HELLO = "/test.Greeter/SayHello";

const identity = (b: Buffer) => b;

/** Decides the answer of one call: a text reply, or a gRPC status code with a message. */
export type GrpcBehaviour = (request: string, metadata: grpc.Metadata) => Promise<string | { code: grpc.status; details: string }> | string | { code: grpc.status; details: string };

export interface GrpcApp {
  port: number;
  /** Calls received. */
  calls: number;
  close(): Promise<void>;
}

export async function startGrpcApp(behaviour: GrpcBehaviour): Promise<GrpcApp> {
  const server = new grpc.Server();
  const state = { calls: 0 };
  const service: grpc.ServiceDefinition = {
    SayHello: { path: SAY_HELLO, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity, originalName: "sayHello" },
  };
  server.addService(service, {
    SayHello: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      state.calls++;
      void Promise.resolve(behaviour(call.request.toString(), call.metadata)).then((out) => {
        if (typeof out === "string") callback(null, Buffer.from(out));
        else callback({ code: out.code, details: out.details });
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}

/** The outcome of one unary call as the client saw it. */
export interface GrpcResult {
  code: grpc.status;
  details: string;
  reply: string | undefined;
}

/** A grpc-js client dialling a sidecar's outbound listener while addressing `authority` (e.g. `greeter:50051`). */
export class GrpcTestClient {
  private readonly client: grpc.Client;

  constructor(proxyPort: number, authority: string) {
    this.client = new grpc.Client(`127.0.0.1:${proxyPort}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
  }

  call(text: string, metadata: Record<string, string> = {}): Promise<GrpcResult> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(SAY_HELLO, (s: Buffer) => s, (b: Buffer) => b, Buffer.from(text), md, { deadline: Date.now() + 5_000 }, (err, value) => {
        if (err) resolve({ code: err.code, details: err.details, reply: undefined });
        else resolve({ code: grpc.status.OK, details: "", reply: value?.toString() });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
