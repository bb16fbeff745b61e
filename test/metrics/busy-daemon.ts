/**
 * A real daemon with something to report: `rollcall run` on the embedded simulator with
 * two seed users pushed to three virtual devices, then a user enrolled at one device (as
 * a person at the device would, through `rollcall sim enroll`) and fanned out to the
 * others. Histograms then have observations and labelled metrics have series, so a
 * scrape of /metrics shows what Prometheus will see on a working site.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, embeddedDaemonConfig, freePort, runCli } from '../helpers/daemon-process.js';

const DEVICES = [1001, 1002, 1003];

export class BusyDaemon {
  readonly daemon: DaemonProcess;
  readonly base: string;
  readonly gateway: string;
  readonly #dir: string;

  private constructor(daemon: DaemonProcess, base: string, gateway: string, dir: string) {
    this.daemon = daemon;
    this.base = base;
    this.gateway = gateway;
    this.#dir = dir;
  }

  /** Starts the daemon and waits until the device-side enrollment has reached every device. */
  static async start(): Promise<BusyDaemon> {
    const dir = await mkdtemp(join(tmpdir(), 'rollcall-busy-'));
    const httpPort = await freePort();
    const gatewayPort = await freePort();
    const config = join(dir, 'rollcall.yaml');
    await writeFile(config, embeddedDaemonConfig({ dataDir: join(dir, 'data'), httpPort, gatewayPort, devices: DEVICES }));
    const daemon = new DaemonProcess(['run', '--config', config]);
    const busy = new BusyDaemon(daemon, `http://127.0.0.1:${httpPort}`, `127.0.0.1:${gatewayPort}`, dir);
    try {
      await daemon.waitForLine((l) => l.msg === 'rollcall is running', 60_000);
      await busy.until((text) => DEVICES.every((id) => text.includes(`rollcall_device_in_sync{device="${id}"} 1`)));
      const enrolled = await runCli(['sim', 'enroll', '--gateway', busy.gateway, '--device', String(DEVICES[0]), '--user', '77', '--name', 'Enrolled at the door']);
      if (enrolled.code !== 0) throw new Error(`sim enroll failed (${enrolled.code}): ${enrolled.stderr}`);
      // Merged into the database and acknowledged by the other devices.
      await busy.until((text) => /^rollcall_device_event_to_fanout_seconds_count [1-9]/m.test(text));
      return busy;
    } catch (error) {
      await busy.stop();
      throw error;
    }
  }

  async metrics(): Promise<{ status: number; type: string | null; text: string }> {
    const response = await fetch(`${this.base}/metrics`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  }

  /**
   * Scrapes until `done(text)` holds. Bounded by the number of tries (about a minute), and
   * never an assertion on time: a slow machine only waits longer.
   */
  async until(done: (text: string) => boolean, tries = 600): Promise<string> {
    let last = '';
    for (let i = 0; i < tries; i++) {
      if (this.daemon.child.exitCode !== null) throw new Error(`the daemon exited; stderr: ${this.daemon.stderr}`);
      last = (await this.metrics()).text;
      if (done(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`/metrics never reached the expected state; last scrape:\n${last}\nlast log lines: ${JSON.stringify(this.daemon.lines.slice(-5))}`);
  }

  /** SIGTERM, wait for the exit, remove the temp dir. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    try {
      if (this.daemon.child.exitCode === null && this.daemon.child.signalCode === null) this.daemon.child.kill('SIGTERM');
      return await this.daemon.exited;
    } finally {
      await this.daemon.kill();
      await rm(this.#dir, { recursive: true, force: true });
    }
  }
}
