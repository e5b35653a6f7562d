import * as grpc from "@grpc/grpc-js";
import type { Knobs } from "../knobs";
import { apply } from "../knobs";
import type { MeshClient, Review } from "../mesh-client";
import { reviewsService, traceContext } from "../mesh-client";

/**
 * reviews (gRPC), in three versions: v1 shows no stars; v2 (black) and v3 (red) ask ratings
 * over HTTP/2 through their sidecar. Which version answered is in the reply.
 */
export function reviewsServer(version: string, knobs: Knobs, mesh: MeshClient): grpc.Server {
  const server = new grpc.Server();
  server.addService(reviewsService(), {
    getReviews: (call: grpc.ServerUnaryCall<{ productId: number }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void (async () => {
        if (await apply(knobs)) return callback({ code: grpc.status.UNAVAILABLE, details: `reviews ${version}: injected failure (--failure-rate)` });
        const productId = call.request.productId;
        const reviews: Review[] = [
          { reviewer: "Reviewer1", text: "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!", stars: 0, color: "" },
          { reviewer: "Reviewer2", text: "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.", stars: 0, color: "" },
        ];
        if (version !== "v1") {
          const r = await mesh.getH2("ratings:9080", `/ratings/${productId}`, 5_000, traceContext((h) => call.metadata.get(h)[0]));
          if (r.status !== 200) return callback({ code: grpc.status.UNAVAILABLE, details: `reviews ${version}: ratings answered ${r.status}` });
          const stars = (r.body as { ratings: Record<string, number> }).ratings;
          for (const rev of reviews) {
            rev.stars = stars[rev.reviewer] ?? 0;
            rev.color = version === "v2" ? "black" : "red";
          }
        }
        callback(null, { productId, reviews, version });
      })().catch((err: Error) => callback({ code: grpc.status.INTERNAL, details: `reviews ${version}: ${err.message}` }));
    },
  });
  return server;
}
