// The peer of bench/run.sh: Better Auth with email+password on SQLite (better-sqlite3 12;
// 13 needs Node 22), its rate limit off, its password hashing left at the default (scrypt).
import http from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";

const PORT = Number(process.env.PORT || 3005);
const HOST = "127.0.0.1";
const DB_PATH = process.env.DB || "./peer.db";
const SECRET =
  process.env.BETTER_AUTH_SECRET ||
  "ba-peer-fixed-benchmark-secret-0123456789abcdef"; // 47 chars
const BASE_URL = `http://${HOST}:${PORT}`;

const db = new Database(DB_PATH);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 5000");

const options = {
  database: db,
  secret: SECRET,
  baseURL: BASE_URL,
  trustedOrigins: [BASE_URL, `http://localhost:${PORT}`],
  emailAndPassword: {
    enabled: true,
    requireEmailVerification: false,
    autoSignIn: true,
    // password hashing left at the library default (scrypt)
  },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
};

// Create / update the schema non-interactively before serving.
const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const authHandler = toNodeHandler(auth);

const server = http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  if (req.url && req.url.startsWith("/api/auth")) {
    authHandler(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
});

server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => {
  process.stdout.write(`listening on ${BASE_URL}\n`);
});

const shutdown = () => {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
