/**
 * `rollcall status` and `rollcall devices`: the daemon, the store, sync and the plugins at a
 * glance, and each device with its connection and sync state.
 */
import type { Command } from 'commander';
import { statusJson } from '../json-shapes.js';
import { renderDevices, renderStatus } from '../render.js';
import { deviceShape, pendingDeviceShape } from '../shapes/device.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { ADMIN_EXIT } from './output.js';

export function registerStatusCommands(program: Command, commands: ClientCommands): void {
  commands.define(program, 'status', 'show the daemon, the store, sync and the plugins at a glance').action((options: ClientOptions) =>
    commands.withDaemon(options, async (c, out) => {
      const response = await c.unary('Status', c.client.status, {});
      const json = statusJson(response, commands.io.now());
      out.result(json, () => renderStatus(json, commands.io.now()));
      return ADMIN_EXIT.OK;
    }),
  );

  commands.define(program, 'devices', 'list the devices with their connection and sync state').action((options: ClientOptions) =>
    commands.withDaemon(options, async (c, out) => {
      const { devices, pending, pendingKnown } = await c.unary('ListDevices', c.client.listDevices, {});
      const json = { devices: devices.map(deviceShape.toJson), pending: pendingKnown ? pending.map(pendingDeviceShape.toJson) : null };
      out.result(json, () => renderDevices(json.devices, commands.io.now(), json.pending));
      return ADMIN_EXIT.OK;
    }),
  );
}
