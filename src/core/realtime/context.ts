import type { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import type { Bus, BusEvent } from '../bus/types.js';

/** A live realtime connection, as the gateway's shutdown and heartbeat see it. */
export interface LiveConnection {
  transport: 'sse' | 'ws';
  heartbeat(): void;
  shutdown(): void;
}

/** What both gateways share. */
export interface RealtimeContext {
  bus: Bus;
  config: Config['realtime'];
  connections: Set<LiveConnection>;
  /** The JSON of an event, computed once however many clients receive it. */
  eventJson(event: BusEvent): string;
  metrics: {
    connections: Gauge<'transport'>;
    dropped: Counter<'transport' | 'reason'>;
    delivered: Counter<'transport'>;
  };
}
