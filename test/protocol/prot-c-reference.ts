// A deliberately literal, slow transcription of beanstalkd 1.12's input handling
// (prot.c: conn_process_io, h_conn's dispatch loop, scan_line_end, fill_extra_data, skip):
// a 224-byte command buffer filled by read() calls of arbitrary sizes. RequestParser's
// window arithmetic is checked against it; the line interpretation itself is shared.
import { interpretLine, type LineContext } from '../../src/protocol/command-line.js';
import { MAX_LINE_BYTES, type Request } from '../../src/protocol/types.js';

const CR = 13;
const LF = 10;
const BUCKET_BUF_SIZE = 1024;

/** scan_line_end: memchr for CR over size - 1 bytes, then require LF. */
function scanLineEnd(cmd: Buffer, size: number): number {
  for (let i = 0; i < size - 1; i++) {
    if (cmd[i] === CR) return cmd[i + 1] === LF ? i + 2 : 0;
  }
  return 0;
}

type State = 'want-command' | 'want-endline' | 'want-data' | 'bitbucket';

export function protCRequests(stream: Uint8Array, readSizes: readonly number[], ctx: LineContext): Request[] {
  const out: Request[] = [];
  const cmd = Buffer.alloc(MAX_LINE_BYTES);
  let cmdRead = 0;
  let state = 'want-command' as State; // 'as': closures change it, so do not narrow
  let streamAt = 0;
  let readCount = 0;
  let job: { pri: number; delaySeconds: number; ttrSeconds: number; body: Uint8Array } | undefined;
  let inJobRead = 0; // bytes of the job read; in bitbucket state, bytes still to throw away

  /** read(2) of at most `max` bytes into target[at..]; returns 0 at end of stream. */
  function read(target: Uint8Array | undefined, at: number, max: number): number {
    const n = Math.min(max, readSizes[readCount++ % readSizes.length], stream.length - streamAt);
    if (target) target.set(stream.subarray(streamAt, streamAt + n), at);
    streamAt += n;
    return n;
  }

  function enqueueIncomingJob(): void {
    const j = job!;
    job = undefined;
    inJobRead = 0;
    const n = j.body.length;
    if (j.body[n - 2] !== CR || j.body[n - 1] !== LF) {
      out.push({ kind: 'put-expected-crlf' });
      return;
    }
    out.push({ kind: 'put', pri: j.pri, delaySeconds: j.delaySeconds, ttrSeconds: j.ttrSeconds, body: j.body.slice(0, n - 2) });
  }

  function fillExtraData(cmdLen: number): void {
    const extra = cmdRead - cmdLen;
    let jobBytes = 0;
    if (job) {
      jobBytes = Math.min(extra, job.body.length);
      job.body.set(cmd.subarray(cmdLen, cmdLen + jobBytes));
      inJobRead = jobBytes;
    } else if (inJobRead) {
      jobBytes = Math.min(extra, inJobRead);
      inJobRead -= jobBytes;
    }
    cmd.copy(cmd, 0, cmdLen + jobBytes, cmdRead);
    cmdRead = extra - jobBytes;
  }

  function dispatch(cmdLen: number): void {
    const outcome = interpretLine(cmd.toString('latin1', 0, cmdLen - 2), ctx);
    if (outcome.kind === 'put-skip') {
      inJobRead = outcome.bytes + 2; // _skip()
      fillExtraData(cmdLen);
      if (inJobRead === 0) out.push({ kind: 'put-too-big' });
      else state = 'bitbucket';
      return;
    }
    if (outcome.kind === 'put-header') {
      job = { ...outcome, body: new Uint8Array(outcome.bytes + 2) };
      fillExtraData(cmdLen);
      if (inJobRead === job.body.length) enqueueIncomingJob();
      else state = 'want-data';
      return;
    }
    out.push(outcome);
    fillExtraData(cmdLen);
  }

  for (;;) {
    let r: number;
    switch (state) {
      case 'want-command':
        r = read(cmd, cmdRead, MAX_LINE_BYTES - cmdRead);
        if (r === 0) return out;
        cmdRead += r;
        if (!scanLineEnd(cmd, cmdRead) && cmdRead === MAX_LINE_BYTES) {
          cmdRead = 0;
          state = 'want-endline';
        }
        break;
      case 'want-endline': {
        r = read(cmd, cmdRead, MAX_LINE_BYTES - cmdRead);
        if (r === 0) return out;
        cmdRead += r;
        const cmdLen = scanLineEnd(cmd, cmdRead);
        if (cmdLen) {
          out.push({ kind: 'error', reply: 'BAD_FORMAT' });
          fillExtraData(cmdLen);
          state = 'want-command';
        } else if (cmdRead === MAX_LINE_BYTES) {
          cmdRead = 0;
        }
        break;
      }
      case 'bitbucket':
        r = read(undefined, 0, Math.min(inJobRead, BUCKET_BUF_SIZE));
        if (r === 0) return out;
        inJobRead -= r;
        if (inJobRead === 0) {
          out.push({ kind: 'put-too-big' });
          state = 'want-command';
        }
        break;
      case 'want-data':
        r = read(job!.body, inJobRead, job!.body.length - inJobRead);
        if (r === 0) return out;
        inJobRead += r;
        if (inJobRead === job!.body.length) {
          enqueueIncomingJob();
          state = 'want-command';
        }
        break;
    }
    // h_conn: dispatch every complete line while the connection wants a command.
    for (let cmdLen: number; state === 'want-command' && cmdRead && (cmdLen = scanLineEnd(cmd, cmdRead)); ) {
      dispatch(cmdLen);
    }
  }
}
