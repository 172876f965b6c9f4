/**
 * The one typed view of the environment. Every setting is read and validated here at
 * boot; a bad configuration fails fast with every problem listed at once.
 */
import 'dotenv/config';
import proxyaddr from 'proxy-addr';
import type { Plan } from '../domain/plan';
import { DEFAULT_QUOTA_LIMITS, parseQuotaConfig, QuotaLimit } from '../domain/quota/evaluate-quota';
import { DevSecrets, devSecretsFile, readOrCreateDevSecrets } from './dev-secrets';

export type NodeEnv = 'development' | 'test' | 'production';

/** What one process runs: `all` (the default) everything, `api` HTTP and WebSockets without jobs, `worker` jobs without a listener on PORT. */
export type Role = 'all' | 'api' | 'worker';
export const ROLES: readonly Role[] = ['all', 'api', 'worker'];

export interface Config {
  nodeEnv: NodeEnv;
  /** ROLE: whether this process listens on PORT (all, api) and runs jobs (all, worker). */
  role: Role;
  host: string;
  port: number;
  /** Empty when the embedded PostgreSQL should be started. */
  databaseUrl: string | null;
  embeddedPg: { dataDir: string; port: number };
  redisUrl: string | null;
  auth: {
    hs256Secret: string | null;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
    /** True when the data folder's development secret is in use (config/dev-secrets.ts). */
    usingDevSecret: boolean;
    /** Longest token lifetime accepted: `exp` minus `iat` (or minus now, without `iat` or when it lies ahead). */
    maxTtlSeconds: number;
  };
  staff: {
    /** HS256 secret of staff tokens (audience `roundtable-staff`). */
    jwtSecret: string;
    tokenTtlSeconds: number;
    usingDevSecret: boolean;
    /** Folder of the built console served at /admin. */
    consoleDir: string;
  };
  unknownAgeIsMinor: boolean;
  maxGroupMembers: number;
  /** How members mention the AI: `@AI` by default. */
  aiName: string;
  maxMessageLength: number;
  messagePageMax: number;
  /** Group commit of sends that wait for a running send statement (messages/send-batch.ts). */
  sendBatching: boolean;
  /** Anti-abuse limit for human messages per user and minute (never the AI quota). */
  messageRatePerMinute: number;
  inviteMaxTtlHours: number;
  typingTtlMs: number;
  graphql: {
    introspection: boolean;
    /** GRAPHQL_EXPLORER: GraphiQL for browsers at GET /graphql (graphql/explorer.ts); it hands out a development token only with usingDevSecret. */
    explorer: boolean;
    maxDepth: number;
    maxCost: number;
    /** Lexical tokens a document may have (graphql-js stops parsing past them). */
    maxTokens: number;
    maxAliases: number;
    maxRootFields: number;
    maxDirectives: number;
    bodyLimitBytes: number;
    /** Client operations (HTTP and graphql-ws queries and mutations) one user may have running at once. */
    maxInFlightPerUser: number;
    /** Operations of one user waiting for a turn; past them RATE_LIMITED (HTTP 429). */
    maxQueuedPerUser: number;
    /** Cost of the operations running at once in this process, all users together. */
    maxCostInFlight: number;
    /** Cost one user may spend per second (after a burst), in this process. */
    costPerSecondPerUser: number;
    costBurstPerUser: number;
  };
  subscription: {
    connectionInitTimeoutMs: number;
    /** Events buffered for one slow subscriber before its subscription is ended. */
    maxQueuedEvents: number;
    /** Subscriptions one socket, and one user across its sockets in this process, may hold. */
    maxSubscriptionsPerSocket: number;
    maxSubscriptionsPerUser: number;
    /** Unsent bytes (bufferedAmount) one socket, and one user's sockets together, may hold before a socket is closed. */
    maxBufferedBytes: number;
    maxBufferedBytesPerUser: number;
  };
  ai: AiConfig;
  /**
   * Reverse proxies whose X-Forwarded-For is believed: a hop count, or addresses and
   * subnets (with proxy-addr's names loopback, linklocal, uniquelocal). None by default:
   * then the socket's peer is the client, and a forwarded header cannot be forged past it.
   */
  trustProxy: number | string[];
  logLevel: string;
  shutdownGraceMs: number;
  /** Where /metrics is served and who may read it (ops/metrics-endpoint.ts). */
  metrics: {
    /** Its own listener on host:port, and not on the main port; null serves it on the main port. */
    port: number | null;
    host: string;
    /** Bearer token a scrape must present; null lets anyone who reaches it read it. */
    token: string | null;
    /** How often the event-loop delay is sampled (ms): the smallest delay its metrics can show. */
    loopResolutionMs: number;
  };
  /** Deadline of /readyz's checks: past it the answer is 503. */
  readyzTimeoutMs: number;
  /** Days a decided safety case keeps the message text it holds as evidence; then a job purges it. */
  safetyEvidenceRetentionDays: number;
}

export interface AiConfig {
  /** False when neither OPENAI_BASE_URL nor OPENAI_API_KEY is set: AI responses then fail, uncharged. */
  configured: boolean;
  baseUrl: string | null;
  apiKey: string | null;
  models: { fast: string; reasoning: string; top: string };
  /** Until the provider's response headers arrive (the SDK's timeout, per attempt). */
  timeoutMs: number;
  maxRetries: number;
  /** The whole reply, from the request until its last token: past it the reply ends FAILED (TIMEOUT), uncharged. */
  replyDeadlineMs: number;
  /** The longest silence between two tokens of a reply once it has started. */
  streamIdleMs: number;
  /** AI_REPLY_LEASE_MS: how long a reply in flight stays its process's after its last heartbeat; past it another instance takes it over. */
  replyLeaseMs: number;
  /** JOBS_CONCURRENCY: jobs (AI replies) one process runs at once. */
  jobsConcurrency: number;
  /** Use the provider's moderation endpoint; otherwise the built-in classifier. */
  openaiModeration: boolean;
  moderationModel: string;
  /** Ask the fast model whether to chime in when the rules say no in AUTO mode. */
  classifier: boolean;
  contextTokens: number;
  /** Most unread messages a catch-up summarises (the newest ones). */
  catchUpMaxMessages: number;
  deltaFlushMs: number;
  deltaFlushChars: number;
  quota: Record<Plan, QuotaLimit>;
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  str(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(name: string): string | null {
    const v = this.env[name];
    return v === undefined || v === '' ? null : v;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | null {
    const raw = this.optional(name);
    if (raw === null) return null;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return raw;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function readAiConfig(r: Reader): AiConfig {
  const baseUrl = r.url('OPENAI_BASE_URL', ['http:', 'https:']);
  const apiKey = r.optional('OPENAI_API_KEY');
  const quotaText = r.optional('AI_QUOTA');
  let quota = { ...DEFAULT_QUOTA_LIMITS };
  if (quotaText) {
    const parsed = parseQuotaConfig(quotaText);
    if (parsed.ok) quota = parsed.limits;
    else r.problems.push(...parsed.problems.map((p) => `AI_QUOTA: ${p}`));
  }
  return {
    configured: baseUrl !== null || apiKey !== null,
    baseUrl,
    apiKey,
    models: {
      fast: r.str('AI_MODEL_FAST', 'gpt-4o-mini'),
      reasoning: r.str('AI_MODEL_REASONING', 'o4-mini'),
      top: r.str('AI_MODEL_TOP', 'gpt-4.1'),
    },
    timeoutMs: r.int('AI_TIMEOUT_MS', 60_000, 1000, 600_000),
    maxRetries: r.int('AI_MAX_RETRIES', 2, 0, 10),
    replyDeadlineMs: r.int('AI_REPLY_DEADLINE_MS', 120_000, 100, 3_600_000),
    streamIdleMs: r.int('AI_STREAM_IDLE_MS', 20_000, 100, 600_000),
    replyLeaseMs: r.int('AI_REPLY_LEASE_MS', 30_000, 2000, 600_000),
    jobsConcurrency: r.int('JOBS_CONCURRENCY', 20, 1, 200),
    openaiModeration: r.bool('OPENAI_MODERATION', false),
    moderationModel: r.str('OPENAI_MODERATION_MODEL', 'omni-moderation-latest'),
    classifier: r.bool('AI_CLASSIFIER', false),
    contextTokens: r.int('AI_CONTEXT_TOKENS', 4000, 200, 200_000),
    catchUpMaxMessages: r.int('AI_CATCH_UP_MAX_MESSAGES', 200, 1, 1000),
    deltaFlushMs: r.int('AI_DELTA_FLUSH_MS', 40, 0, 5000),
    deltaFlushChars: r.int('AI_DELTA_FLUSH_CHARS', 64, 1, 100_000),
    quota,
  };
}

function readTrustProxy(r: Reader): number | string[] {
  const raw = r.str('TRUST_PROXY', '').trim();
  if (raw === '') return [];
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((a) => a.trim()).filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch (err) {
    r.problems.push(`TRUST_PROXY must be a hop count or addresses, subnets, loopback, linklocal or uniquelocal: ${(err as Error).message}`);
  }
  return list;
}

/**
 * Reads and checks `env`. Outside production, an unset JWT_SECRET or STAFF_JWT_SECRET is
 * filled from the data folder's development secrets, through `devSecrets` (by default the
 * file beside EMBEDDED_PG_DIR, created on first use); that is the only outside input.
 */
export function loadConfig(env: Env = process.env, devSecrets: (file: string) => DevSecrets = readOrCreateDevSecrets): Config {
  const r = new Reader(env);
  const nodeEnvRaw = r.str('NODE_ENV', 'development');
  if (!['development', 'test', 'production'].includes(nodeEnvRaw)) {
    r.problems.push(`NODE_ENV must be development, test or production, got "${nodeEnvRaw}"`);
  }
  const nodeEnv = (['development', 'test', 'production'].includes(nodeEnvRaw) ? nodeEnvRaw : 'development') as NodeEnv;
  const production = nodeEnv === 'production';
  const roleRaw = r.str('ROLE', 'all');
  if (!(ROLES as readonly string[]).includes(roleRaw)) r.problems.push(`ROLE must be all, api or worker, got "${roleRaw}"`);
  const role = ((ROLES as readonly string[]).includes(roleRaw) ? roleRaw : 'all') as Role;

  const hs256Secret = r.optional('JWT_SECRET');
  const jwksUrl = r.url('JWT_JWKS_URL', ['https:', 'http:']);
  if (hs256Secret !== null && hs256Secret.length < 32) {
    r.problems.push('JWT_SECRET must be at least 32 characters');
  }
  if (production && hs256Secret === null && jwksUrl === null) {
    r.problems.push('JWT_SECRET or JWT_JWKS_URL is required in production (the development secret is refused)');
  }
  const usingDevSecret = !production && hs256Secret === null && jwksUrl === null;

  const staffSecret = r.optional('STAFF_JWT_SECRET');
  if (staffSecret !== null && staffSecret.length < 32) r.problems.push('STAFF_JWT_SECRET must be at least 32 characters');
  if (production && staffSecret === null) r.problems.push('STAFF_JWT_SECRET is required in production (the development secret is refused)');
  // Tokens are kept apart by audience anyway; in production the secrets must differ as well.
  if (production && staffSecret !== null && staffSecret === hs256Secret) r.problems.push('STAFF_JWT_SECRET must differ from JWT_SECRET');
  const embeddedPgDir = r.str('EMBEDDED_PG_DIR', '.data/postgres');
  let dev: DevSecrets | null = null;
  if (!production && (usingDevSecret || staffSecret === null)) {
    try {
      dev = devSecrets(devSecretsFile(embeddedPgDir));
    } catch (err) {
      r.problems.push(`the development secrets could not be read or created: ${(err as Error).message}`);
    }
  }

  const metricsToken = r.optional('METRICS_TOKEN');
  if (metricsToken !== null && metricsToken.length < 16) r.problems.push('METRICS_TOKEN must be at least 16 characters');
  const metricsPort = r.int('METRICS_PORT', 0, 0, 65535);

  const config: Config = {
    nodeEnv,
    role,
    // A development server is for this machine: reachable from the network only when asked.
    host: r.str('HOST', nodeEnv === 'development' ? '127.0.0.1' : '0.0.0.0'),
    port: r.int('PORT', 4000, 0, 65535),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    embeddedPg: {
      dataDir: embeddedPgDir,
      port: r.int('EMBEDDED_PG_PORT', 0, 0, 65535),
    },
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    auth: {
      hs256Secret: usingDevSecret ? dev?.jwtSecret ?? null : hs256Secret,
      jwksUrl,
      issuer: r.optional('JWT_ISSUER'),
      audience: r.optional('JWT_AUDIENCE'),
      usingDevSecret,
      maxTtlSeconds: r.int('JWT_MAX_TTL_SECONDS', 86_400, 60, 7 * 24 * 3600),
    },
    staff: {
      // In production a missing secret is a problem above; '' never reaches a signer.
      jwtSecret: staffSecret ?? dev?.staffJwtSecret ?? '',
      tokenTtlSeconds: r.int('STAFF_TOKEN_TTL_SECONDS', 1800, 60, 7 * 24 * 3600),
      usingDevSecret: staffSecret === null,
      consoleDir: r.str('ADMIN_DIST_DIR', 'admin/dist'),
    },
    unknownAgeIsMinor: r.bool('UNKNOWN_AGE_IS_MINOR', true),
    maxGroupMembers: r.int('MAX_GROUP_MEMBERS', 20, 2, 1000),
    aiName: r.str('AI_NAME', 'AI'),
    maxMessageLength: r.int('MAX_MESSAGE_LENGTH', 8000, 1, 100_000),
    messagePageMax: r.int('MESSAGE_PAGE_MAX', 100, 1, 1000),
    sendBatching: r.bool('SEND_BATCHING', true),
    messageRatePerMinute: r.int('MESSAGE_RATE_PER_MINUTE', 120, 1, 100_000),
    inviteMaxTtlHours: r.int('INVITE_MAX_TTL_HOURS', 24 * 30, 1, 24 * 365),
    typingTtlMs: r.int('TYPING_TTL_MS', 6000, 1000, 60_000),
    graphql: {
      introspection: r.bool('GRAPHQL_INTROSPECTION', !production),
      explorer: r.bool('GRAPHQL_EXPLORER', !production),
      maxDepth: r.int('GRAPHQL_MAX_DEPTH', 10, 2, 50),
      maxCost: r.int('GRAPHQL_MAX_COST', 5000, 10, 1_000_000),
      maxTokens: r.int('GRAPHQL_MAX_TOKENS', 1000, 100, 100_000),
      maxAliases: r.int('GRAPHQL_MAX_ALIASES', 15, 0, 1000),
      maxRootFields: r.int('GRAPHQL_MAX_ROOT_FIELDS', 10, 1, 1000),
      maxDirectives: r.int('GRAPHQL_MAX_DIRECTIVES', 50, 0, 1000),
      bodyLimitBytes: r.int('HTTP_BODY_LIMIT_BYTES', 100_000, 1000, 10_000_000),
      maxInFlightPerUser: r.int('MAX_OPERATIONS_IN_FLIGHT_PER_USER', 4, 1, 1000),
      maxQueuedPerUser: r.int('MAX_OPERATIONS_QUEUED_PER_USER', 32, 0, 10_000),
      maxCostInFlight: r.int('GRAPHQL_MAX_COST_IN_FLIGHT', 10_000, 10, 100_000_000),
      costPerSecondPerUser: r.int('GRAPHQL_COST_PER_SECOND_PER_USER', 2000, 1, 100_000_000),
      costBurstPerUser: r.int('GRAPHQL_COST_BURST_PER_USER', 20_000, 10, 100_000_000),
    },
    subscription: {
      connectionInitTimeoutMs: r.int('WS_INIT_TIMEOUT_MS', 3000, 100, 60_000),
      maxQueuedEvents: r.int('WS_MAX_QUEUED_EVENTS', 1000, 10, 1_000_000),
      maxSubscriptionsPerSocket: r.int('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 50, 1, 10_000),
      maxSubscriptionsPerUser: r.int('WS_MAX_SUBSCRIPTIONS_PER_USER', 200, 1, 100_000),
      maxBufferedBytes: r.int('WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
      maxBufferedBytesPerUser: r.int('WS_MAX_BUFFERED_BYTES_PER_USER', 16 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    },
    ai: readAiConfig(r),
    trustProxy: readTrustProxy(r),
    logLevel: r.str('LOG_LEVEL', nodeEnv === 'test' ? 'warn' : 'info'),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 120_000),
    metrics: {
      port: metricsPort === 0 ? null : metricsPort,
      host: r.str('METRICS_HOST', '127.0.0.1'),
      token: metricsToken,
      loopResolutionMs: r.int('METRICS_LOOP_RESOLUTION_MS', 10, 1, 1000),
    },
    readyzTimeoutMs: r.int('READYZ_TIMEOUT_MS', 1000, 50, 30_000),
    safetyEvidenceRetentionDays: r.int('SAFETY_EVIDENCE_RETENTION_DAYS', 90, 1, 3650),
  };
  if (config.metrics.port !== null && config.metrics.port === config.port) r.problems.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)');
  if (!/^[\p{L}\p{N}_]{1,30}$/u.test(config.aiName)) r.problems.push('AI_NAME must be 1 to 30 letters, digits or _');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    r.problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
