/**
 * The G-SDK device gateway simulator (ARCHITECTURE §9): gsdk.* V1.8 services for any number
 * of virtual devices, plus the rollcall.sim.v1.Control service. See simulator/README.md.
 */
export { startSimulator, type RunningSimulator, type SimulatorOptions } from './server.js';
export type { DeviceSpec, TemplateFormatName } from './device-spec.js';
export { DeviceControl, type CapacityChange } from './device-control.js';
export type { FaultPlan } from './faults.js';
export type { GatewayStats } from './gateway.js';
export type { StreamStats } from './gateway-streams.js';
export { SimError } from './sim-error.js';
export { configSchema, deviceSchema, devicesFromConfig, type SimulatorConfig, type SimulatorConfigInput } from './schema.js';
export { loadSimulatorConfig } from './config-file.js';
export { csnCardFromDecimal, decimalOfCsnCard, simulatedFinger, simulatedTemplate } from './conventions.js';
export { standInPinHash, standInPinHashWithKey, PIN_MAX_BYTES } from './pin-hash.js';
export { LEGACY_MULTI_ERROR_TYPE_URL, MULTI_ERROR_TYPE_URL, STATUS_DETAILS_KEY } from './multi-error.js';
export { SUB_CODE_AT_DEVICE, SUB_CODE_BY_SERVER, UserEventCode } from './virtual-device.js';
export { TemplateFormat } from '../proto/gen/gsdk/finger.js';
