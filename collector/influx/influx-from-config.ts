import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { CollectorConfig } from '../config.js';
import { InfluxWriter } from './influx-writer.js';

/** The InfluxDB export of config `influx` (its spool under the data folder unless `spoolDir` says). */
export function influxWriterFromConfig(config: CollectorConfig, clock: Clock, log: Logger, metrics: MetricsRegistry): InfluxWriter {
  const x = config.influx!;
  return new InfluxWriter(
    {
      url: x.url,
      org: x.org,
      bucket: x.bucket,
      token: x.token,
      batchLines: x.batchLines,
      flushMs: x.flushMs,
      spoolDir: x.spoolDir ?? join(config.dataDir, 'influx-spool'),
      spoolMaxBytes: x.spoolMaxBytes,
      timeoutMs: x.timeoutMs,
      maxQueueLines: x.maxQueueLines,
      resendWindowMs: x.resendWindowMs,
    },
    { clock, log: log.child({ module: 'influx' }), metrics },
  );
}
