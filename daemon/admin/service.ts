/**
 * What each admin RPC does, in terms of the daemon's parts (AdminBackend) and the API's
 * messages, one concern a file under service/: the daemon at a glance (status.ts), sync and
 * checks (sync.ts), users (users.ts), files through the drop folder (files.ts), the event log
 * (events.ts). No gRPC here: server.ts adapts calls, streams and errors. Every request is
 * checked before anything is read or written (requests.ts, user-input.ts); a refused request
 * changes nothing.
 */
import { RequestContext, type AdminServiceOptions } from './service/context.js';
import { EventService } from './service/events.js';
import { FileService } from './service/files.js';
import { StatusService } from './service/status.js';
import { SyncService } from './service/sync.js';
import { UserService } from './service/users.js';

export type { AdminServiceOptions, Caller, Emit } from './service/context.js';

export class AdminService {
  readonly status: StatusService;
  readonly sync: SyncService;
  readonly users: UserService;
  readonly files: FileService;
  readonly events: EventService;

  constructor(options: AdminServiceOptions) {
    const context = new RequestContext(options);
    this.status = new StatusService(context);
    this.sync = new SyncService(context);
    this.users = new UserService(context);
    this.files = new FileService(context);
    this.events = new EventService(context);
  }
}
