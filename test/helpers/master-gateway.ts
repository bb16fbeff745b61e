/**
 * A stand-in for a G-SDK master gateway (no simulator of one exists): a bare grpc-js server
 * on loopback that serves only what a master has and a device gateway lacks,
 * ConnectMaster.GetDeviceList, answering that it wants a login. With `master: false` it
 * serves nothing: some other gRPC server.
 */
import * as grpc from '@grpc/grpc-js';

export interface BareGateway {
  address: string;
  stop: () => Promise<void>;
}

export async function bareGrpcServer(options: { master: boolean; port?: number }): Promise<BareGateway> {
  const server = new grpc.Server();
  if (options.master) {
    const raw = (b: Buffer): Buffer => b;
    server.register(
      '/gsdk.connect_master.ConnectMaster/GetDeviceList',
      (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback({ code: grpc.status.UNAUTHENTICATED, details: 'no JWT' }),
      raw,
      raw,
      'unary',
    );
  }
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
  return { address: `127.0.0.1:${bound}`, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}
