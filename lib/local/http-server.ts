import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';

export interface RawRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** 'reset' destroys the socket without an answer (a connection reset, as the client sees it). */
export type Handler = (request: RawRequest) => Promise<RawResponse | 'reset'>;

/** A loopback-only HTTP server for an emulator. */
export class LoopbackServer {
  private server?: Server;

  constructor(private readonly handler: Handler) {}

  /** Listens on 127.0.0.1 (port 0: any free port). */
  public async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve, reject) => this.server!.once('error', reject).listen(port, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body: Buffer.concat(chunks).toString() };
      this.handler(request).then(answer => {
        if (answer === 'reset') {
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.status, { 'content-type': answer.contentType });
        res.end(answer.body);
      }, error => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator bug: ${(error as Error).message}`);
      });
    });
  }
}

/**
 * A cloud API served on loopback: started on a port (any free one by default), named by its endpoint
 * URL (what an SDK's AWS_ENDPOINT_URL_<SERVICE> takes), stopped at the end. Subclasses answer requests.
 */
export abstract class LoopbackApi {
  private readonly server = new LoopbackServer(request => this.handle(request));
  private endpointUrl?: string;

  /** http://127.0.0.1:PORT. */
  public get endpoint(): string {
    if (!this.endpointUrl) throw new Error(`${this.constructor.name} is not started`);
    return this.endpointUrl;
  }

  public async start(port?: number): Promise<string> {
    this.endpointUrl = `http://${await this.server.start(port)}`;
    return this.endpointUrl;
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  protected abstract handle(request: RawRequest): Promise<RawResponse | 'reset'>;
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
