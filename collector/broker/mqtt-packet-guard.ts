import type { Socket } from 'node:net';

/**
 * Enforces a maximum MQTT packet size in front of the embedded broker, which has no
 * such limit of its own: it follows the fixed header of every packet (MQTT 3.1.1 §2.2:
 * one type byte, then "Remaining Length" as a variable byte integer of up to 4 bytes)
 * and reports the first header that announces more than `maxBytes`, before its body is
 * buffered. It only reads the bytes.
 */
export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private lengthValue = 0;
  private lengthMultiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onOversize: (announced: number) => void,
  ) {}

  /** Follow `chunk`, the next bytes of the stream; an error when they break the limit or the format. */
  scan(chunk: Buffer): Error | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'type';
      } else if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.lengthValue = 0;
        this.lengthMultiplier = 1;
        this.lengthBytes = 0;
      } else {
        const b = chunk[i++]!;
        this.lengthValue += (b & 0x7f) * this.lengthMultiplier;
        this.lengthMultiplier *= 128;
        this.lengthBytes++;
        if (this.lengthValue > this.maxBytes) {
          this.onOversize(this.lengthValue);
          return new Error(`MQTT packet of ${this.lengthValue} bytes exceeds the limit of ${this.maxBytes}`);
        }
        if ((b & 0x80) === 0) {
          this.remaining = this.lengthValue;
          this.state = this.remaining > 0 ? 'body' : 'type';
        } else if (this.lengthBytes >= 4) {
          return new Error('malformed MQTT remaining length');
        }
      }
    }
    return undefined;
  }
}

/**
 * Guard a socket in place for aedes: every chunk the socket receives goes through the
 * guard as it enters the socket's read buffer (`push`, where Node's TCP and TLS sockets
 * hand over what they read, whatever the reader: aedes' `read()` on 'readable' or a
 * 'data' listener); a chunk that breaks the limit destroys the socket and never enters.
 * The socket itself goes to aedes: no stream in between (before, a Transform for the
 * guard and a Duplex joining it to the socket's writes, each with its states and
 * listeners, and a hop per chunk), and aedes' writes, corked by mqtt-packet, reach the
 * socket's own writev.
 */
export function guardSocket<S extends Socket>(socket: S, maxBytes: number, onOversize: (announced: number) => void): S {
  const guard = new PacketSizeGuard(maxBytes, onOversize);
  const push = socket.push;
  socket.push = function guardedPush(this: S, chunk: unknown, encoding?: BufferEncoding) {
    if (Buffer.isBuffer(chunk) && chunk.length > 0 && guard.scan(chunk) !== undefined) {
      this.destroy();
      return false;
    }
    return push.call(this, chunk, encoding);
  };
  return socket;
}
