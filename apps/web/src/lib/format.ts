/** Display helpers shared by the pages. */
export const rps = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));
export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 1)} %`);
export const ms = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
export const ago = (iso: string | Date | null | undefined) => {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};
export const healthClass = (h: string) => (h === "healthy" ? "ok" : h === "degraded" ? "warn" : h === "failure" ? "bad" : "");

/** How long until a time: `in 23 h`, `in 12 min`, or `expired 3 min ago`. */
export const until = (iso: string | Date | null | undefined) => {
  if (!iso) return "–";
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const span = (x: number) => (x < 60 ? `${x} s` : x < 3600 ? `${Math.round(x / 60)} min` : x < 172_800 ? `${Math.round(x / 3600)} h` : `${Math.round(x / 86_400)} d`);
  return s >= 0 ? `in ${span(s)}` : `expired ${span(-s)} ago`;
};

/** The methods the editors and the what-if offer. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
