import type { SystemServer } from '../../proto/gen/gsdk/system.js';
import type { CallScope } from './calls.js';

/** gsdk.system.System: only SystemConfig.useAlphanumericID is simulated. */
export function systemService(scope: CallScope): SystemServer {
  return {
    getConfig: scope.unary(async (req, call) =>
      scope.onDevice(req.deviceID, call, (d) => ({ config: { useAlphanumericID: d.useAlphanumericID } })),
    ),
    setConfig: scope.unary(async (req, call) => {
      await scope.onDevice(req.deviceID, call, (d) => d.setUseAlphanumericID(req.config?.useAlphanumericID ?? false));
      return {};
    }),
  };
}
