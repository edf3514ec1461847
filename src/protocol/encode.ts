// Commands and replies to their exact wire bytes. Replies are byte for byte what beanstalkd
// sends (prot.c MSG_* and reply_line formats); commands are what a well-behaved client sends.
// Tube names are ASCII by the protocol's rules, so latin1 (one byte per char) is exact.
import type { Command, Reply } from './types.js';

const CRLF = '\r\n';

/**
 * `<line>\r\n<body>\r\n` in one allocation. A `trailer` replaces the final CR LF: peek of an
 * in-flight put sends the job's stored 2 trailing bytes, whatever has arrived of them (probe 93).
 */
function withBody(line: string, body: Uint8Array, trailer?: Uint8Array): Buffer {
  const lineBytes = line.length; // latin1: one byte per char
  const out = Buffer.allocUnsafe(lineBytes + body.length + 2);
  out.write(line, 0, 'latin1');
  out.set(body, lineBytes);
  if (trailer) {
    out.set(trailer, out.length - 2);
  } else {
    out[out.length - 2] = 13;
    out[out.length - 1] = 10;
  }
  return out;
}

function lineOnly(line: string): Buffer {
  return Buffer.from(line, 'latin1');
}

export function encodeReply(reply: Reply): Buffer {
  switch (reply.kind) {
    case 'INSERTED':
      return lineOnly(`INSERTED ${reply.id}${CRLF}`);
    case 'BURIED':
      return lineOnly(reply.id === undefined ? `BURIED${CRLF}` : `BURIED ${reply.id}${CRLF}`);
    case 'USING':
      return lineOnly(`USING ${reply.tube}${CRLF}`);
    case 'RESERVED':
      return withBody(`RESERVED ${reply.id} ${reply.body.length}${CRLF}`, reply.body);
    case 'FOUND':
      return withBody(`FOUND ${reply.id} ${reply.body.length}${CRLF}`, reply.body, reply.trailer);
    case 'WATCHING':
      return lineOnly(`WATCHING ${reply.count}${CRLF}`);
    case 'KICKED':
      return lineOnly(reply.count === undefined ? `KICKED${CRLF}` : `KICKED ${reply.count}${CRLF}`);
    case 'OK':
      return withBody(`OK ${reply.body.length}${CRLF}`, reply.body);
    default:
      // Every other reply is its bare word.
      return lineOnly(`${reply.kind}${CRLF}`);
  }
}

export function encodeCommand(cmd: Command): Buffer {
  switch (cmd.kind) {
    case 'put':
      return withBody(`put ${cmd.pri} ${cmd.delaySeconds} ${cmd.ttrSeconds} ${cmd.body.length}${CRLF}`, cmd.body);
    case 'use':
    case 'watch':
    case 'ignore':
    case 'stats-tube':
      return lineOnly(`${cmd.kind} ${cmd.tube}${CRLF}`);
    case 'reserve-with-timeout':
      return lineOnly(`reserve-with-timeout ${cmd.timeoutSeconds}${CRLF}`);
    case 'reserve-job':
    case 'delete':
    case 'touch':
    case 'peek':
    case 'kick-job':
    case 'stats-job':
      return lineOnly(`${cmd.kind} ${cmd.id}${CRLF}`);
    case 'release':
      return lineOnly(`release ${cmd.id} ${cmd.pri} ${cmd.delaySeconds}${CRLF}`);
    case 'bury':
      return lineOnly(`bury ${cmd.id} ${cmd.pri}${CRLF}`);
    case 'kick':
      return lineOnly(`kick ${cmd.bound}${CRLF}`);
    case 'pause-tube':
      return lineOnly(`pause-tube ${cmd.tube} ${cmd.delaySeconds}${CRLF}`);
    default:
      // reserve, peek-ready, peek-delayed, peek-buried, stats, list-*, quit: the bare keyword.
      return lineOnly(`${cmd.kind}${CRLF}`);
  }
}
