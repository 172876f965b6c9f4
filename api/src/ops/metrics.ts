import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for one API process; each process has its own registry. Every label
 * value comes from the code or the schema, never from what a client sent, so the number
 * of series is bounded however many requests arrive: event `type` and AI `status` are the
 * service's enums, the operation latency's `operation` is the root field the schema
 * resolved (ops/operation-label.ts), `type` the endpoint and `status` the HTTP status the
 * service answered with.
 */
export function createMetrics(loopResolutionMs = 10) {
  const registry = new Registry();
  // The event-loop delay is sampled every METRICS_LOOP_RESOLUTION_MS (prom-client's 10 by
  // default): no figure can be under it. bench:fanout samples every 1 ms to see 5 ms stalls;
  // a service that does so always pays a timer a millisecond (about 20 ms of CPU a second).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: loopResolutionMs });
  return {
    registry,
    messagesSent: new Counter({ name: 'roundtable_messages_sent_total', help: 'Messages created by sendMessage', registers: [registry] }),
    sendStatements: new Histogram({
      name: 'roundtable_send_batch_size',
      help: 'Sends stored per send statement (group commit: more than one when sends waited for a running statement)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    sendBatchFallbacks: new Counter({
      name: 'roundtable_send_batch_fallbacks_total',
      help: 'Send batches that failed as a whole and were stored one send at a time (a concurrent retry of one of their keys, a deadlock)',
      registers: [registry],
    }),
    sendsWaiting: new Gauge({ name: 'roundtable_sends_waiting', help: 'Sends waiting for a running send statement (their group or every statement slot busy)', registers: [registry] }),
    eventsPublished: new Counter({ name: 'roundtable_group_events_published_total', help: 'Group events published after commit', labelNames: ['type'] as const, registers: [registry] }),
    eventsDelivered: new Counter({ name: 'roundtable_group_events_delivered_total', help: 'Group events handed to local subscribers', registers: [registry] }),
    subscriptionExecutions: new Counter({
      name: 'roundtable_subscription_executions_total',
      help: 'Subscription results executed and serialized; subscribers with the same query shape share one per event',
      registers: [registry],
    }),
    subscriptions: new Gauge({ name: 'roundtable_subscriptions_active', help: 'Open groupEvents subscriptions in this process', registers: [registry] }),
    aiResponses: new Counter({ name: 'roundtable_ai_responses_total', help: 'AI responses by final status', labelNames: ['status'] as const, registers: [registry] }),
    aiJobWait: new Histogram({
      name: 'roundtable_ai_job_wait_seconds',
      help: "From an ai.respond job coming due (its message's commit, or its retry) to the job's start; path: here (run by the process that stored the message) or queue (fetched by a worker)",
      labelNames: ['path'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    wsConnections: new Gauge({ name: 'roundtable_ws_connections_active', help: 'Open graphql-ws connections', registers: [registry] }),
    operationDuration: new Histogram({
      name: 'roundtable_graphql_operation_duration_seconds',
      help: 'GraphQL operation latency over HTTP, by root field (multiple: several; invalid: none resolved)',
      labelNames: ['operation', 'type', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
