/**
 * `rollcall status` and `rollcall devices`: the daemon, the store, sync and the plugins at a
 * glance, and each device with its connection and sync state; `rollcall devices events-from`
 * sets where a device's event log is read from.
 */
import type { Command } from 'commander';
import { statusJson } from '../json-shapes.js';
import { renderDevices, renderStatus } from '../render.js';
import { deviceShape, pendingDeviceShape } from '../shapes/device.js';
import type { ClientCommands, ClientOptions } from './client-commands.js';
import { ADMIN_EXIT, UsageError } from './output.js';

export function registerStatusCommands(program: Command, commands: ClientCommands): void {
  commands.define(program, 'status', 'show the daemon, the store, sync and the plugins at a glance').action((options: ClientOptions) =>
    commands.withDaemon(options, async (c, out) => {
      const response = await c.unary('Status', c.client.status, {});
      const json = statusJson(response, commands.io.now());
      out.result(json, () => renderStatus(json, commands.io.now()));
      return ADMIN_EXIT.OK;
    }),
  );

  const devices = commands.define(program, 'devices', 'list the devices with their connection and sync state');
  devices.action((options: ClientOptions) =>
    commands.withDaemon(options, async (c, out) => {
      const { devices, pending, pendingKnown } = await c.unary('ListDevices', c.client.listDevices, {});
      const json = { devices: devices.map(deviceShape.toJson), pending: pendingKnown ? pending.map(pendingDeviceShape.toJson) : null };
      out.result(json, () => renderDevices(json.devices, commands.io.now(), json.pending));
      return ADMIN_EXIT.OK;
    }),
  );

  commands.define(devices, 'events-from', 'read a device\'s event log from this event on (events before it are never read), or from its newest event')
    .argument('<device>', 'device ID')
    .argument('<start>', 'an event ID from 1, or latest')
    // `devices` has the same options and commander gives them to it wherever they stand: both count.
    .action((device: string, start: string, own: ClientOptions) =>
      commands.withDaemon({ ...devices.opts<ClientOptions>(), ...own }, async (c, out) => {
        const deviceId = wholeNumber(device, '<device>');
        const from = start === 'latest' ? ({ $case: 'latest', value: true } as const) : ({ $case: 'eventId', value: wholeNumber(start, '<start>') } as const);
        const response = await c.unary('SetEventStart', c.client.setEventStart, { deviceId, start: from });
        const json = deviceShape.toJson(response.device!);
        out.result(json, () =>
          json.eventBaseline
            ? `device ${json.id}: its event log is read from event ${json.eventBaseline.eventId} on (last read: ${json.lastEventId})`
            : `device ${json.id} is not connected: its event log is read from its newest event when it connects`,
        );
        return ADMIN_EXIT.OK;
      }),
    );
}

function wholeNumber(text: string, what: string): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 0xffff_ffff) throw new UsageError(`${what} must be a whole number from 1 to 4294967295, or latest for <start> (got ${JSON.stringify(text)})`);
  return Number(text);
}
