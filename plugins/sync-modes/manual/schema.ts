export { emptySchema as configSchema } from '../common.js';
