import type http from "node:http";
import type { Knobs } from "../knobs";
import { httpService, idOf, json } from "./common";

/**
 * A stand-in for an external API outside the mesh (declared by a ServiceEntry,
 * `books.example.com`): `GET /books/<id>` → price and stock from "the bookstore". No sidecar.
 */
export function bookstoreServer(knobs: Knobs): http.Server {
  return httpService("bookstore", knobs, (_req, url, res) => {
    const id = idOf(url.pathname, "/books");
    if (id === undefined) return json(res, 404, { error: "bookstore: try /books/<id>" });
    json(res, 200, { id, title: "The Comedy of Errors", priceEur: 9.99 + (id % 5), seller: "books.example.com" });
  });
}
