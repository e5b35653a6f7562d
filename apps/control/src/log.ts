// The shared logger lives in @trellis/config (one implementation for every process).
export * from "@trellis/config/log";
