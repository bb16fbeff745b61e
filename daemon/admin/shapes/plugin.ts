/**
 * One plugin's readiness in `status`: daemon-info's PluginReadiness → the wire's
 * PluginInfo → the object in `plugins` of `status --json`. The one list of its fields.
 */
import { kept, messageShape, text, type JsonOf } from './field.js';

const pluginFields = {
  id: kept<string>(),
  kind: kept<string>(),
  name: kept<string>(),
  state: kept<string>(),
  ok: kept<boolean>(),
  /** Why it is not ok; absent when it is. */
  detail: text,
};

export const pluginShape = messageShape(pluginFields);
export type PluginJson = JsonOf<typeof pluginFields>;
