import type { ConnectServer } from '../../proto/gen/gsdk/connect.js';
import type { CallScope } from './calls.js';

/** gsdk.connect.Connect: the gateway's connections to the virtual devices. */
export function connectService(scope: CallScope): ConnectServer {
  const { gateway } = scope;
  return {
    connect: scope.unary((req) => ({
      deviceID: gateway.connect(req.connectInfo ?? { IPAddr: '', port: 0, useSSL: false }),
    })),
    addAsyncConnection: scope.unary((req) => {
      gateway.addAsyncConnections(req.connectInfos);
      return {};
    }),
    deleteAsyncConnection: scope.unary((req) => {
      gateway.deleteAsyncConnections(req.deviceIDs);
      return {};
    }),
    setAcceptFilter: scope.unary((req) => {
      gateway.setAcceptFilter(req.filter ?? { allowAll: false, deviceIDs: [], IPAddrs: [], subnetMasks: [] });
      return {};
    }),
    getAcceptFilter: scope.unary(() => ({ filter: gateway.acceptFilter })),
    getPendingList: scope.unary(() => ({ deviceInfos: gateway.pendingList() })),
    getDeviceList: scope.unary(() => ({ deviceInfos: gateway.deviceList() })),
    disconnect: scope.unary((req) => {
      gateway.disconnect(req.deviceIDs);
      return {};
    }),
    disconnectAll: scope.unary(() => {
      gateway.disconnectAll();
      return {};
    }),
    subscribeStatus: (call) => {
      gateway.streams.subscribeStatus(call, call.request.queueSize);
    },
  };
}
