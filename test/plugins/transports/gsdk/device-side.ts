/**
 * The transport contract suite's DeviceSide for the gsdk transport: the simulator's virtual
 * devices, changed in-process the way a person at a device (or its network) would change them.
 */
import { status } from '@grpc/grpc-js';
import type { User } from '../../../../daemon/model/user.js';
import { toUserInfo } from '../../../../plugins/transports/gsdk/user-info.js';
import { TemplateFormat, type RunningSimulator } from '../../../../simulator/index.js';
import type { DeviceSide } from '../../../contract/transport.suite.js';
import { fullUser } from './fixtures.js';

export function simulatedDeviceSide(sim: RunningSimulator, unknownDeviceId: number): DeviceSide {
  return {
    deviceIds: [...sim.deviceIds].sort((a, b) => a - b),
    unknownDeviceId,
    // The fixture's fingerprints are tagged SUPREMA, the simulator's default format.
    fullUser,
    async disconnect(deviceId) {
      sim.device(deviceId).disconnect();
    },
    async reconnect(deviceId) {
      sim.device(deviceId).reconnect();
    },
    async leaveRoomFor(deviceId, free) {
      const device = sim.device(deviceId);
      device.setCapacity({ maxUsers: device.userCount + free });
    },
    async changeTemplateFormat(deviceId) {
      sim.device(deviceId).setCapacity({ templateFormat: TemplateFormat.ISO });
    },
    async enrollAtDevice(deviceId, user: User) {
      sim.device(deviceId).enrollAtDevice(toUserInfo(user));
    },
    async stall(deviceId) {
      sim.device(deviceId).setFault({ hangCount: 1 });
    },
    async poisonUser(deviceId, userId, wholeCall = false) {
      const device = sim.device(deviceId);
      const poisoned = device.state().fault?.poisonUserIDs ?? [];
      device.setFault({ poisonUserIDs: [...poisoned, userId], poisonCode: status.INTERNAL, poisonWholeCall: wholeCall });
    },
    async timeOutAbove(deviceId, users) {
      sim.device(deviceId).setFault({ slowAboveUsers: users, slowLatencyMs: 0 });
    },
    async userIds(deviceId) {
      return sim.device(deviceId).users().map((info) => info.hdr?.ID ?? '');
    },
  };
}
