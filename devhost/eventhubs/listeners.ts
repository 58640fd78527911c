/** The endpoint's listeners: plain AMQP (the emulator form current SDKs use) and AMQPS (what the service offers). */
import type { Server, Socket } from "node:net";
import type { Connection, Container, ServerConnectionOptions } from "rhea";
import type { LocalCertificates } from "./certificates";
import { SERVICE_OPEN_FIELDS } from "./performatives";

/** How long stop() lets clients answer the AMQP close before it destroys their sockets. */
const CLOSE_GRACE_IN_MS = 500;
/** Producers' links get this much credit at once. */
const PRODUCER_CREDIT_WINDOW = 1000;

export interface ListenerOptions {
  /** Plain AMQP port on 127.0.0.1 (0: a free one). */
  port: number;
  /** AMQPS port on 127.0.0.1 (0: a free one); its certificate names `localhost` and 127.0.0.1. */
  tlsPort: number;
  certificates: LocalCertificates;
  maxMessageSizeInBytes: number;
}

export interface Listeners {
  port: number;
  tlsPort: number;
  /** Closes every connection (AMQP close, then the socket) and the listeners. */
  stop(connections: Iterable<Connection>): Promise<void>;
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : Number.NaN;
}

async function listenOn(container: Container, options: ServerConnectionOptions, sockets: Set<Socket>): Promise<Server> {
  const server = container.listen(options) as Server;
  server.on("connection", (socket: Socket) => {
    // As the service's AMQP stack does (Azure/azure-amqp src/Transport/TcpTransportListener.cs: `NoDelay = true`):
    // its frames leave at once, not after the client's delayed ACK.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve());
  });
  return server;
}

export async function startListeners(container: Container, options: ListenerOptions): Promise<Listeners> {
  const sockets = new Set<Socket>();
  const common = {
    host: "127.0.0.1",
    ...SERVICE_OPEN_FIELDS,
    // Links the clients attach take these: credit for producers, the size limit for everyone.
    receiver_options: {
      autoaccept: false,
      max_message_size: options.maxMessageSizeInBytes,
      credit_window: PRODUCER_CREDIT_WINDOW,
    },
    sender_options: { max_message_size: options.maxMessageSizeInBytes },
  };
  const plain = await listenOn(container, { ...common, port: options.port }, sockets);
  const secure = await listenOn(
    container,
    {
      ...common,
      port: options.tlsPort,
      transport: "tls",
      cert: options.certificates.serverCertificatePem,
      key: options.certificates.serverKeyPem,
    },
    sockets,
  ).catch(async (error: unknown) => {
    await new Promise((resolve) => plain.close(resolve));
    throw error;
  });
  return {
    port: portOf(plain),
    tlsPort: portOf(secure),
    async stop(connections) {
      const closed = [plain, secure].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const connection of connections) connection.close();
      const socketsClosed = Promise.all(
        [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve))),
      );
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, CLOSE_GRACE_IN_MS);
      });
      await Promise.race([socketsClosed, grace]);
      clearTimeout(graceTimer);
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}
