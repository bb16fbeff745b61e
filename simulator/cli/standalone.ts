import { readFile } from 'node:fs/promises';
import { RollcallError } from '../../daemon/errors.js';
import { loadSimulatorConfig } from '../config-file.js';
import { configSchema, devicesFromConfig, type SimulatorConfig } from '../schema.js';
import { startSimulator } from '../server.js';
import { printResult, type SimCommandOutput } from './output.js';

/** `rollcall sim` on its own: a standalone simulator that runs until SIGINT or SIGTERM. */

export interface StandaloneOptions {
  host?: string;
  port?: number;
  devices?: number;
  firstId?: number;
  config?: string;
  json?: boolean;
  tlsCert?: string;
  tlsKey?: string;
}

export async function runStandalone(options: StandaloneOptions, out: SimCommandOutput): Promise<void> {
  let config: SimulatorConfig;
  if (options.config) {
    config = await loadSimulatorConfig(options.config);
    if (options.devices !== undefined) {
      config = { ...config, devices: undefined, count: options.devices, firstId: options.firstId ?? config.firstId };
    }
  } else {
    config = configSchema.parse({ count: options.devices ?? 3, firstId: options.firstId ?? 1001 });
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new RollcallError('ROLLCALL_ERR_CONFIG_INVALID', '--tls-cert and --tls-key go together');
  }
  const tls = options.tlsCert && options.tlsKey ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) } : undefined;
  const simulator = await startSimulator({
    host: options.host ?? config.host,
    port: options.port ?? config.port,
    devices: devicesFromConfig(config),
    realtimeQueueDefault: config.realtimeQueueSize,
    ...(tls ? { tls } : {}),
  });
  printResult(
    out,
    options,
    { address: simulator.address, port: simulator.port, tls: tls !== undefined, deviceIds: simulator.deviceIds },
    `rollcall gateway simulator listening on ${simulator.address} (${tls ? 'TLS' : 'plaintext'})\n` +
      `devices: ${simulator.deviceIds.join(', ')}\nstop with Ctrl-C or SIGTERM`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await simulator.stop();
}
