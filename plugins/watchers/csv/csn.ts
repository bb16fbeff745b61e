// The csn column's conversions live with the model (the daemon seeds users with them too).
export * from '../../../daemon/model/csn.js';
