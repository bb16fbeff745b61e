import { readFile } from 'node:fs/promises';
import {
  Metadata,
  credentials as grpcCredentials,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Command } from 'commander';
import { RollcallError } from '../../daemon/errors.js';
import { UserClient } from '../../proto/gen/gsdk/user.js';
import { ControlClient } from '../../proto/gen/rollcall/sim/v1/sim.js';

/**
 * How the `rollcall sim` subcommands talk to a running simulator: a Control client (and a
 * User client for PIN hashes) per command, unary calls with a deadline, and the options
 * every such subcommand takes.
 */

const CALL_DEADLINE_MS = 10_000;

export interface GatewayOptions {
  gateway: string;
  ca?: string;
  json?: boolean;
}

async function channelCredentials(options: GatewayOptions): Promise<ChannelCredentials> {
  return options.ca ? grpcCredentials.createSsl(await readFile(options.ca)) : grpcCredentials.createInsecure();
}

function deadline(): Date {
  return new Date(Date.now() + CALL_DEADLINE_MS);
}

export function callError(method: string, error: ServiceError): RollcallError {
  const codeName = status[error.code] ?? String(error.code);
  return new RollcallError('ROLLCALL_ERR_GATEWAY_CALL', `${method}: ${error.details || error.message} (${codeName})`, {
    cause: error,
    detail: { method, code: error.code },
  });
}

/** Runs `use` with a connected Control client (and a User client for PIN hashes), closing both after. */
export async function withClients<T>(
  options: GatewayOptions,
  use: (clients: { control: ControlClient; user: UserClient }) => Promise<T>,
): Promise<T> {
  const creds = await channelCredentials(options);
  const control = new ControlClient(options.gateway, creds);
  const user = new UserClient(options.gateway, creds);
  try {
    return await use({ control, user });
  } finally {
    control.close();
    user.close();
  }
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

export function call<Req, Res>(name: string, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: deadline() }, (error, response) =>
      error ? reject(callError(name, error)) : resolve(response),
    );
  });
}

/** A subcommand that acts on the running simulator at --gateway. */
export function gatewayCommand(parent: Command, name: string, description: string): Command {
  return (
    parent
      .command(name)
      .description(description)
      .requiredOption('--gateway <address>', 'address of a running simulator, host:port')
      .option('--ca <file>', 'CA certificate (PEM) when the simulator serves TLS')
      .option('--json', 'print machine-readable JSON')
      // Unless the root program enables positional options, `sim` itself takes a --json
      // written after the subcommand; hand it on.
      .hook('preAction', (command) => {
        if (parent.opts().json === true) command.setOptionValue('json', true);
      })
  );
}
