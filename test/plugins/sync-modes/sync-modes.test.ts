import { syncModeSuite } from '../../contract/sync-mode.suite.js';
import manual from '../../../plugins/sync-modes/manual/index.js';
import allDevices from '../../../plugins/sync-modes/all-devices/index.js';
import withUpdates from '../../../plugins/sync-modes/all-devices-with-device-updates/index.js';
import accessGroups from '../../../plugins/sync-modes/access-group-devices/index.js';
import type { PluginDefinition } from '../../../daemon/plugins/api.js';

const everywhere = () => true;
const sharedGroup = (user: number[], device: number[] | undefined) => (device ?? []).some((g) => user.includes(g));

syncModeSuite(manual as PluginDefinition, { acceptsDeviceChanges: false, autoPush: false, targets: everywhere });
syncModeSuite(allDevices as PluginDefinition, { acceptsDeviceChanges: false, autoPush: true, targets: everywhere });
syncModeSuite(withUpdates as PluginDefinition, { acceptsDeviceChanges: true, autoPush: true, targets: everywhere });
syncModeSuite(accessGroups as PluginDefinition, { acceptsDeviceChanges: false, autoPush: true, targets: sharedGroup });
