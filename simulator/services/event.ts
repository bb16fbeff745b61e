import type { EventServer } from '../../proto/gen/gsdk/event.js';
import type { CallScope } from './calls.js';

/**
 * gsdk.event.Event. Monitoring belongs to the gateway's connection to a device: it must be
 * enabled for the device's events to reach SubscribeRealtimeLog; GetLog always works.
 */
export function eventService(scope: CallScope): EventServer {
  const { gateway } = scope;
  return {
    enableMonitoring: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => (d.checkMonitoringAllowed(), gateway.setMonitoring(d.id, true)));
      return {};
    }),
    enableMonitoringMulti: scope.unary(async (req, call) =>
      scope.onDevices(req.deviceIDs, call, (d) => (d.checkMonitoringAllowed(), gateway.setMonitoring(d.id, true))),
    ),
    disableMonitoring: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => gateway.setMonitoring(d.id, false));
      return {};
    }),
    disableMonitoringMulti: scope.unary(async (req, call) =>
      scope.onDevices(req.deviceIDs, call, (d) => gateway.setMonitoring(d.id, false)),
    ),
    subscribeRealtimeLog: (call) => {
      const { queueSize, deviceIDs, eventCodes } = call.request;
      gateway.streams.subscribeRealtime(call, queueSize, deviceIDs, eventCodes);
    },
    getLog: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({ events: d.log.read(req.startEventID, req.maxNumOfLog) })),
    ),
  };
}
