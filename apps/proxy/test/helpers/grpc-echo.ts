import * as grpc from "@grpc/grpc-js";
import type { ServiceDefinition } from "@grpc/grpc-js";

/**
 * A gRPC echo service covering the four call shapes, with JSON messages instead of protobuf
 * (grpc-js serializes through the functions a service definition names, so no .proto is
 * needed). A request can ask for a status, a delay, large payloads or a trailers-only answer,
 * so tests can check what the proxies pass through. (helpers/grpc.ts has a one-method greeter.)
 */
export interface EchoRequest {
  text: string;
  /** Answer with this status code (and `text` as the message) instead of OK. */
  status?: number;
  /** Wait this long before answering (unary) or between messages (server streaming). */
  delayMs?: number;
  /** Server streaming: how many messages to send. */
  count?: number;
  /** Unary: answer without sending response headers first (a trailers-only response when `status` is set). */
  noHeaders?: boolean;
  /** Unary: pad the reply with this many bytes. */
  replyBytes?: number;
  /** Filler, so tests can send large messages. */
  pad?: string;
}

export interface EchoReply {
  text: string;
  /** Bytes of `pad` the server received. */
  padBytes?: number;
  pad?: string;
  /** Metadata the server saw (`x-` keys only), so tests check what crossed the proxies. */
  metadata?: Record<string, string>;
  /** Whether the server saw a finite deadline (grpc-timeout crossed the proxies). */
  hasDeadline?: boolean;
}

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as never,
};

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/trellis.test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  };
}

export const ECHO_SERVICE = {
  unary: method("Unary", false, false),
  serverStream: method("ServerStream", false, true),
  clientStream: method("ClientStream", true, false),
  bidi: method("Bidi", true, true),
} satisfies ServiceDefinition;

/** The client grpc-js generates for ECHO_SERVICE, typed as a generated stub would be. */
export interface EchoClient extends grpc.Client {
  unary(req: EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<EchoReply>): grpc.ClientUnaryCall;
  unary(req: EchoRequest, callback: grpc.requestCallback<EchoReply>): grpc.ClientUnaryCall;
  serverStream(req: EchoRequest, metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  clientStream(callback: grpc.requestCallback<EchoReply>): grpc.ClientWritableStream<EchoRequest>;
  bidi(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

const EchoClientConstructor = grpc.makeGenericClientConstructor(ECHO_SERVICE, "Echo");

export interface GrpcEchoServer {
  port: number;
  /** Calls the server saw cancelled (by the client, a deadline or the proxies resetting the stream). */
  cancelled: number;
  close(): Promise<void>;
}

function pickMetadata(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (k.startsWith("x-")) out[k] = String(v);
  return out;
}

function statusError(req: EchoRequest): Partial<grpc.StatusObject> {
  const trailers = new grpc.Metadata();
  trailers.set("x-error-detail", `detail-${req.text}`);
  return { code: req.status!, details: req.text, metadata: trailers };
}

/** Starts the echo service on 127.0.0.1:0 (h2c). Replies carry an `x-served-by` header and an `x-trailer` trailer. */
export async function startGrpcEcho(name: string): Promise<GrpcEchoServer> {
  const server = new grpc.Server();
  const state = { cancelled: 0 };
  const trailers = () => {
    const t = new grpc.Metadata();
    t.set("x-trailer", name);
    return t;
  };
  const headers = () => {
    const h = new grpc.Metadata();
    h.set("x-served-by", name);
    return h;
  };
  server.addService(ECHO_SERVICE, {
    unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      call.on("cancelled", () => state.cancelled++);
      const req = call.request;
      if (!req.noHeaders) call.sendMetadata(headers());
      const timer = setTimeout(() => {
        if (req.status) return cb(statusError(req));
        const reply: EchoReply = { text: `${name}:${req.text}`, metadata: pickMetadata(call.metadata), hasDeadline: Number.isFinite(Number(call.getDeadline())), padBytes: req.pad?.length ?? 0 };
        if (req.replyBytes) reply.pad = "r".repeat(req.replyBytes);
        cb(null, reply, trailers());
      }, req.delayMs ?? 0);
      call.on("cancelled", () => clearTimeout(timer));
    },
    serverStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      call.on("cancelled", () => state.cancelled++);
      const req = call.request;
      call.sendMetadata(headers());
      let i = 0;
      const next = () => {
        if (call.cancelled) return;
        if (i < (req.count ?? 3)) {
          call.write({ text: `${name}:${req.text}:${i++}` });
          setTimeout(next, req.delayMs ?? 0);
        } else if (req.status) call.emit("error", statusError(req));
        else call.end(trailers());
      };
      next();
    },
    clientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      call.on("cancelled", () => state.cancelled++);
      const texts: string[] = [];
      call.on("data", (m: EchoRequest) => texts.push(m.text));
      call.on("end", () => cb(null, { text: `${name}:${texts.join(",")}` }, trailers()));
    },
    bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      call.on("cancelled", () => state.cancelled++);
      call.sendMetadata(headers());
      call.on("data", (m: EchoRequest) => call.write({ text: `${name}:${m.text}` }));
      call.on("end", () => call.end(trailers()));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    get cancelled() {
      return state.cancelled;
    },
    close: async () => {
      server.forceShutdown();
    },
  };
}

/** A client for `target` (a sidecar's outbound `127.0.0.1:port`) that addresses `authority` (`echo:50051`), as an app behind a sidecar would. */
export function echoClient(target: string, authority: string): EchoClient {
  return new EchoClientConstructor(target, grpc.credentials.createInsecure(), { "grpc.default_authority": authority }) as unknown as EchoClient;
}
