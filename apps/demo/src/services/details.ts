import type http from "node:http";
import type { Knobs } from "../knobs";
import { httpService, idOf, json } from "./common";

/** details (HTTP/1.1): `GET /details/<id>` → the book's publication details. */
export function detailsServer(knobs: Knobs): http.Server {
  return httpService("details", knobs, (_req, url, res) => {
    const id = idOf(url.pathname, "/details");
    if (id === undefined) return json(res, 404, { error: "details: try /details/<id>" });
    json(res, 200, { id, author: "William Shakespeare", year: 1595, type: "paperback", pages: 200, publisher: "PublisherA", language: "English", isbn10: "1234567890", isbn13: "123-1234567890" });
  });
}
